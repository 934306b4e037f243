/* webhook: see webhook.h. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "webhook.h"

#include "util.h"

void webhook_sign(const unsigned char *secret, size_t secret_len, const char *timestamp, const char *body,
                  size_t body_len, char out[WEBHOOK_SIG_MAX])
{
	size_t tlen = strlen(timestamp);
	char *msg = xmalloc(tlen + 1 + body_len + 1);
	memcpy(msg, timestamp, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, body, body_len);
	unsigned char mac[SHA256_LEN];
	hmac_sha256(secret, secret_len, msg, tlen + 1 + body_len, mac);
	free(msg);
	memcpy(out, "sha256=", 7);
	hex_encode(mac, sizeof mac, out + 7);
}

const char *webhook_verify(const unsigned char *secret, size_t secret_len, const char *timestamp, const char *body,
                           size_t body_len, const char *signature, int64_t now_s, int64_t tolerance_s)
{
	char *end;
	long long ts = strtoll(timestamp, &end, 10);
	if (!*timestamp || *end || ts < 0 || strlen(timestamp) > 12)
		return "the timestamp is not Unix seconds";
	char want[WEBHOOK_SIG_MAX];
	webhook_sign(secret, secret_len, timestamp, body, body_len, want);
	if (strlen(signature) != strlen(want) || !ct_equal(signature, want, strlen(want)))
		return "the signature does not match: wrong secret, or the body or timestamp was changed";
	if (tolerance_s > 0 && (ts < now_s - tolerance_s || ts > now_s + tolerance_s))
		return "the timestamp is too far from now: a replay, or a clock that is off";
	return NULL;
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr, (void)arg;
	return size * n;
}

struct guard {
	bool allow_private, refused;
};

/* Every address curl is about to connect to, after any resolving: the
 * check that a name (or DNS rebinding) cannot get around. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct guard *g = arg;
	if (purpose != CURLSOCKTYPE_IPCXN || (!g->allow_private && netaddr_private_kind(&a->addr))) {
		g->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

long webhook_post(const char *url, const char *event_id, const char *body, const unsigned char *secret,
                  size_t secret_len, int64_t now_s, const struct webhook_opts *o, char *why, size_t why_len)
{
	char timestamp[24], sig[WEBHOOK_SIG_MAX], h_ts[64], h_sig[128], h_id[128];
	bufprintf(timestamp, sizeof timestamp, "%lld", (long long)now_s);
	webhook_sign(secret, secret_len, timestamp, body, strlen(body), sig);
	bufprintf(h_ts, sizeof h_ts, "Wpay-Timestamp: %s", timestamp);
	bufprintf(h_sig, sizeof h_sig, "Wpay-Signature: %s", sig);
	bufprintf(h_id, sizeof h_id, "Wpay-Event-Id: %s", event_id);
	CURL *curl = curl_easy_init();
	if (!curl) {
		bufprintf(why, why_len, "libcurl could not start");
		return 0;
	}
	struct curl_slist *headers = NULL;
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, h_id);
	headers = curl_slist_append(headers, h_ts);
	headers = curl_slist_append(headers, h_sig);
	headers = curl_slist_append(headers, "Expect:");
	char errbuf[CURL_ERROR_SIZE] = "";
	struct guard guard = {.allow_private = o->allow_private};
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "wpay-notify/" WPAY_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	else if (guard.refused)
		bufprintf(why, why_len, "%s", WEBHOOK_REFUSED);
	else
		bufprintf(why, why_len, "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

void webhook_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void webhook_global_cleanup(void)
{
	curl_global_cleanup();
}
