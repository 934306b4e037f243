/*
 * netaddr: where a merchant's notifications may go. A notify URL is the
 * merchant's text, and wpay-notify POSTs to it from inside the operator's
 * network: left alone, a URL of http://127.0.0.1:22/ or
 * http://169.254.169.254/ makes the notifier reach what only it can reach
 * (server-side request forgery), and its errors tell whether a port is
 * open. So, unless the ledger allows private addresses ('wpay init
 * --allow-private-notify', for a test endpoint on this host), a
 * notification goes only to a public address: never to loopback,
 * "this network" (0/8), RFC 1918 private, CGNAT (100.64/10), link-local,
 * multicast or reserved IPv4; nor to IPv6 unspecified, loopback,
 * unique-local (fc00::/7), link-local, site-local or multicast, nor to one
 * that embeds such an IPv4 address (mapped, compatible, NAT64, 6to4).
 *
 * The URL's text is checked where it enters (merchants.c); a host name
 * passes there, and every address is checked again as the connection is
 * made (webhook.c), so a name that resolves, or is made to resolve, to
 * such an address is refused too.
 */
#ifndef WPAY_NETADDR_H
#define WPAY_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The ledger setting that allows private addresses: "1" or absent. */
#define NETADDR_ALLOW_SETTING "notify_allow_private"

/* What kind of non-public address sa is ("loopback", "link-local", ...),
 * or NULL when it is a public one. */
const char *netaddr_private_kind(const struct sockaddr *sa);

/*
 * Check a notify URL's text: http:// or https://, a host, no spaces; and,
 * unless allow_private, a host that is not a non-public address. NULL if
 * it passes, else why not, a sentence in buf (len bytes).
 */
const char *netaddr_check_url(const char *url, bool allow_private, char *buf, size_t len);

#endif
