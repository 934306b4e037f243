/*
 * social: who follows which merchant, and the merchant's messages to its
 * followers ("browse, interest, order, pay, share", then the seller's
 * messages).
 *
 * A buyer follows a merchant by paying with --follow or by `wpay bind
 * user follow`, and stops with `user unfollow`. A message goes only to
 * current followers: one "message" event per recipient, queued for the
 * social platform's notify URL (setting SOCIAL_URL_SETTING, made by `wpay
 * init --platform-notify-url`) and signed with the platform's secret
 * (SOCIAL_KEY in the key directory); wpay-notify delivers and retries
 * them as it does merchants' events. A message is sent once per
 * (merchant, request_no): a replay answers the same record.
 *
 * Daily limits, in the ledger's business day (settle_tz, cut-off hour),
 * counted in message_quota by one conditional upsert each, so concurrent
 * senders cannot pass them: a merchant sends at most
 * messages_per_merchant messages (default 4; past it "rate_limited"), a
 * buyer receives at most messages_per_buyer (default 3) from every
 * merchant together (past it the buyer is skipped and counted).
 *
 * Handlers as in accounts.h.
 */
#ifndef WPAY_SOCIAL_H
#define WPAY_SOCIAL_H

#include <jansson.h>

#include "ctx.h"

#define SOCIAL_URL_SETTING          "platform_notify_url"
#define SOCIAL_KEY                  "platform-webhook.key"
#define SOCIAL_PER_MERCHANT_SETTING "messages_per_merchant"
#define SOCIAL_PER_BUYER_SETTING    "messages_per_buyer"
#define SOCIAL_PER_MERCHANT_DEFAULT "4"
#define SOCIAL_PER_BUYER_DEFAULT    "3"
#define SOCIAL_TEXT_MAX             500 /* characters of a message */
#define SOCIAL_EVENT_KIND           "message"

/* {"type":"user","op":"follow"|"unfollow","uid","merchant"} */
int social_follow(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int social_unfollow(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* {"type":"merchant","op":"followers","merchant","limit"?,"after"?}: the
 * followers, oldest first; after is a follower ("u:<uid>"). */
int social_followers(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* {"type":"message","merchant","to","text","request_no"} */
int social_message(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

#endif
