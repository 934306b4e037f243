/*
 * schemes: which payment schemes an EMV payload belongs to (PIX,
 * PromptPay, SGQR, KHQR ...), and whether it keeps each scheme's own rules
 * beyond EMV's. The rules are data, lib/schemes.tsv, each cited to the
 * specification it comes from; see that file for the columns. A payload
 * can be well-formed EMV and still break its scheme's rules (a PIX code
 * without a Merchant City), and a scheme can waive EMV's (PromptPay codes
 * omit 52, 59 and 60).
 */
#ifndef WPAY_SCHEMES_H
#define WPAY_SCHEMES_H

#include <stdbool.h>

#include "emv.h"
#include "networks.h"

/* More than the table's schemes (24): a payload naming them all loses none. */
#define SCHEMES_FOUND_MAX    32
#define SCHEMES_FINDINGS_MAX 32

/* One rule of the table; the strings live as long as the process. */
struct scheme_rule {
	const char *scheme, *rule, *level, *when, *check, *object, *argument, *says, *source;
};

/* A rule a payload breaks, with what was found. */
struct scheme_finding {
	const struct scheme_rule *rule;
	char found[128]; /* "absent", or "it is '840'" */
};

struct scheme_verdict {
	const char *names[SCHEMES_FOUND_MAX]; /* recognised, in the payload's order */
	int nnames;
	bool checked[SCHEMES_FOUND_MAX];                    /* names[i] has must or should rules */
	struct scheme_finding broken[SCHEMES_FINDINGS_MAX]; /* must rules */
	int nbroken;
	struct scheme_finding warned[SCHEMES_FINDINGS_MAX]; /* should rules */
	int nwarned;
};

/* Recognise the payload's schemes and check their rules. */
void schemes_check(const struct emv_payload *p, struct scheme_verdict *v);
/* Check one scheme's rules too, with its template given: a code this
 * ledger pays keeps wpay's rules whichever network's template names the
 * merchant. Nothing if v has that scheme already. */
void schemes_check_as(const struct emv_payload *p, const struct emv_object *tmpl, const char *scheme,
                      struct scheme_verdict *v);
/*
 * The same for a code this ledger would pay: its schemes' rules, and, when
 * a merchant account template (26-51) of a configured network names a
 * merchant, wpay's rules on that template, whichever network it is. The
 * template is returned in *account (NULL: the code names none of ours).
 * wpay-mkqr, wpay-scanqr and wpay-order all judge a code by this.
 */
void schemes_check_payable(const struct emv_payload *p, const struct networks *nw, const struct emv_object **account,
                           struct scheme_verdict *v);
static inline bool schemes_valid(const struct scheme_verdict *v)
{
	return v->nbroken == 0;
}
/* Does a detect rule of the table name this GUI? */
bool schemes_gui_known(const char *gui);
/* The table, for tests and documentation: n rules from *rules. */
const struct scheme_rule *schemes_table(int *n);

#endif
