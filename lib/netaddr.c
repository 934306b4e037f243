/* netaddr: see netaddr.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "netaddr.h"

#include "util.h"

static const char *v4_kind(uint32_t a)
{
	if (a >> 24 == 0)
		return "a \"this network\" address (0.0.0.0/8)";
	if (a >> 24 == 127)
		return "a loopback address";
	if (a >> 24 == 10 || a >> 20 == 0xAC1 || a >> 16 == 0xC0A8)
		return "a private address (RFC 1918)";
	if (a >> 22 == (100u << 2 | 1)) /* 100.64.0.0/10 */
		return "a carrier-grade NAT address (100.64.0.0/10)";
	if (a >> 16 == 0xA9FE)
		return "a link-local address";
	if (a >> 28 == 0xE)
		return "a multicast address";
	if (a >> 28 == 0xF)
		return "a reserved or broadcast address (240.0.0.0/4)";
	return NULL;
}

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const char *v6_kind(const unsigned char b[16])
{
	static const unsigned char zero[16];
	if (memcmp(b, zero, 15) == 0 && b[15] <= 1)
		return b[15] ? "a loopback address" : "the unspecified address (::)";
	/* Addresses that carry an IPv4 one, and reach it: mapped (::ffff:0:0/96),
	 * compatible (::/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
	if (memcmp(b, zero, 10) == 0 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)))
		return v4_kind(be32(b + 12));
	if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && memcmp(b + 4, zero, 8) == 0)
		return v4_kind(be32(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_kind(be32(b + 2));
	if ((b[0] & 0xfe) == 0xfc)
		return "a unique local address (fc00::/7)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "a site-local address";
	if (b[0] == 0xff)
		return "a multicast address";
	return NULL;
}

const char *netaddr_private_kind(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_kind(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return v6_kind(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return "not an internet address";
}

const char *netaddr_check_url(const char *url, bool allow_private, char *buf, size_t len)
{
	const char *rest = strncmp(url, "https://", 8) == 0  ? url + 8
	                   : strncmp(url, "http://", 7) == 0 ? url + 7
	                                                     : NULL;
	if (!rest || strchr(url, ' '))
		return bufprintf(buf, len, "notify_url must be an http:// or https:// URL without spaces"), buf;
	/* The authority ends the host; a user name and password before '@' are not the host. */
	size_t alen = strcspn(rest, "/?#");
	const char *host = rest;
	for (const char *p = rest; p < rest + alen; p++)
		if (*p == '@')
			host = p + 1;
	size_t hlen = (size_t)(rest + alen - host);
	char name[256];
	if (*host == '[') {
		const char *close = memchr(host, ']', hlen);
		if (!close)
			return bufprintf(buf, len, "notify_url has a '[' without ']' around its IPv6 address"), buf;
		hlen = (size_t)(close - host - 1);
		host++;
		/* A zone ("%25eth0") names an interface, not the address. */
		const char *zone = memchr(host, '%', hlen);
		if (zone)
			hlen = (size_t)(zone - host);
	} else {
		const char *colon = memchr(host, ':', hlen);
		if (colon)
			hlen = (size_t)(colon - host);
	}
	if (hlen == 0 || hlen >= sizeof name)
		return bufprintf(buf, len, "notify_url must name a host of 1 to %zu characters", sizeof name - 1), buf;
	memcpy(name, host, hlen);
	name[hlen] = '\0';
	if (allow_private)
		return NULL;
	/* inet_aton reads every form a resolver takes for IPv4 (127.1,
	 * 0x7f000001, 2130706433), so none slips past as a "name". */
	struct in_addr in4;
	struct in6_addr in6;
	const char *kind = NULL;
	if (inet_pton(AF_INET6, name, &in6) == 1)
		kind = v6_kind(in6.s6_addr);
	else if (inet_aton(name, &in4))
		kind = v4_kind(ntohl(in4.s_addr));
	if (!kind)
		return NULL; /* a public address, or a name: checked again when it is resolved */
	bufprintf(buf, len,
	          "notify_url %.200s: its host %s is %s; notifications go only to public addresses, unless the "
	          "ledger allows private ones ('wpay init --allow-private-notify')",
	          url, name, kind);
	return buf;
}
