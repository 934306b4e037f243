/* Unit tests for lib/netaddr: which addresses a notification may go to,
 * at the edges of each range, and what the URL text check reads as a host. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netaddr.h"
#include "unit.h"

/* The kind netaddr_private_kind gives the address text, as connect time sees it. */
static const char *kind(const char *text)
{
	static struct sockaddr_in in4;
	static struct sockaddr_in6 in6;
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return netaddr_private_kind((struct sockaddr *)&in6);
	}
	in4.sin_family = AF_INET;
	inet_pton(AF_INET, text, &in4.sin_addr);
	return netaddr_private_kind((struct sockaddr *)&in4);
}

static bool is_public(const char *text)
{
	return kind(text) == NULL;
}

static bool url_ok(const char *url, bool allow)
{
	char why[512];
	return netaddr_check_url(url, allow, why, sizeof why) == NULL;
}

int main(void)
{
	static const char *const private[] = {"0.0.0.0",
	                                      "0.255.255.255",
	                                      "10.0.0.0",
	                                      "10.255.255.255",
	                                      "100.64.0.0",
	                                      "100.127.255.255",
	                                      "127.0.0.1",
	                                      "127.255.255.254",
	                                      "169.254.0.0",
	                                      "169.254.169.254",
	                                      "172.16.0.0",
	                                      "172.31.255.255",
	                                      "192.168.0.0",
	                                      "192.168.255.255",
	                                      "224.0.0.0",
	                                      "239.255.255.255",
	                                      "240.0.0.0",
	                                      "255.255.255.255",
	                                      "::",
	                                      "::1",
	                                      "fc00::",
	                                      "fdff:ffff::1",
	                                      "fe80::",
	                                      "febf::1",
	                                      "fec0::1",
	                                      "ff02::1",
	                                      "::ffff:127.0.0.1",
	                                      "::ffff:10.1.2.3",
	                                      "::127.0.0.1",
	                                      "64:ff9b::a9fe:a9fe",
	                                      "2002:7f00:1::1",
	                                      "2002:c0a8:101::"};
	static const char *const public[] = {
	    "1.0.0.0",         "9.255.255.255",   "11.0.0.0",       "100.63.255.255",
	    "100.128.0.0",     "126.255.255.255", "128.0.0.0",      "169.253.255.255",
	    "169.255.0.0",     "172.15.255.255",  "172.32.0.0",     "192.167.255.255",
	    "192.169.0.0",     "223.255.255.255", "8.8.8.8",        "2001:4860:4860::8888",
	    "fbff::1",         "fe7f::1",         "::ffff:8.8.8.8", "64:ff9b::808:808",
	    "2002:808:808::1", "2606:4700::1111"};
	bool all = true;
	for (size_t i = 0; i < sizeof private / sizeof *private; i++)
		if (is_public(private[i])) {
			printf("# %s taken as public\n", private[i]);
			all = false;
		}
	CHECK("loopback, private, CGNAT, link-local, multicast, reserved, ULA and embedded IPv4 ones are refused", all);
	all = true;
	for (size_t i = 0; i < sizeof public / sizeof *public; i++)
		if (!is_public(public[i])) {
			printf("# %s taken as %s\n", public[i], kind(public[i]));
			all = false;
		}
	CHECK("the public addresses just outside each range pass", all);
	CHECK("the kind is named", strcmp(kind("169.254.169.254"), "a link-local address") == 0 &&
	                               strcmp(kind("::ffff:192.168.1.1"), "a private address (RFC 1918)") == 0);

	CHECK("a public URL passes",
	      url_ok("https://cafe.example/notify", false) && url_ok("http://8.8.8.8:80/n", false));
	CHECK("a name passes the text check (it is checked when resolved)", url_ok("http://localhost:22/", false));
	CHECK("a loopback address does not", !url_ok("http://127.0.0.1:22/", false));
	CHECK("nor any IPv4 form a resolver reads",
	      !url_ok("http://2130706433/", false) && !url_ok("http://0x7f.1/", false) &&
	          !url_ok("http://127.1", false) && !url_ok("http://0177.0.0.1/", false));
	CHECK("nor one after a user name and password",
	      !url_ok("http://a:b@10.0.0.1/", false) && url_ok("http://10.0.0.1@cafe.example/", false));
	CHECK("nor an IPv6 one, with a zone or mapped", !url_ok("http://[::1]:8080/", false) &&
	                                                    !url_ok("http://[fe80::1%25eth0]/", false) &&
	                                                    !url_ok("http://[::ffff:169.254.169.254]/", false));
	CHECK("the host ends at a path, query or fragment",
	      !url_ok("http://127.0.0.1?x", false) && !url_ok("http://127.0.0.1#x", false));
	CHECK("all of them pass when allowed", url_ok("http://127.0.0.1:22/", true) && url_ok("http://[::1]/", true));
	CHECK("malformed URLs fail either way", !url_ok("ftp://x/", true) && !url_ok("http://", true) &&
	                                            !url_ok("http:///x", true) && !url_ok("http://[::1/", true) &&
	                                            !url_ok("http://a b/", true) && !url_ok("http://u@/", true));
	char why[512];
	netaddr_check_url("http://169.254.169.254/latest", false, why, sizeof why);
	CHECK("the refusal says what and how to allow it",
	      strcmp(why, "notify_url http://169.254.169.254/latest: its host 169.254.169.254 is a link-local "
	                  "address; notifications go only to public addresses, unless the ledger allows private "
	                  "ones ('wpay init --allow-private-notify')") == 0);
	return UNIT_DONE();
}
