/* schemes: see schemes.h; the rules are lib/schemes.tsv. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "err.h"
#include "schemes.h"
#include "utf8.h"

#include "util.h"

static const char builtin[] =
#include "schemes.inc"
    ;

#define RULES_MAX 600

/* The table, parsed in place in a copy of the built-in text: no heap, and
 * the strings live as long as the process. */
static char text[sizeof builtin];
static struct scheme_rule rules[RULES_MAX];
static int nrules = -1;
/* For each detect rule, the root ids (00-99) its object names: its spec
 * ("26-51|80") read once, not for every object of every payload. */
static bool detect_roots[RULES_MAX][100];

static bool id_in(const char *id, const char *spec);

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static const char *const levels[] = {"detect", "must", "should", NULL};
static const char *const detect_checks[] = {"gui", "gui-prefix", "gui-contains", "present", NULL};
static const char *const rule_checks[] = {"present", "absent", "equals", "maxlen",   "minlen",   "length", "digits",
                                          "alnum",   "ans",    "prefix", "contains", "decimals", NULL};

/* "58", "62.05", "@", "@.01", or such paths joined by '|'. */
static bool path_ok(const char *s)
{
	for (;;) {
		if (*s == '@')
			s++;
		else if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9')
			s += 2;
		else
			return false;
		if (*s == '.') {
			if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
				return false;
			s += 3;
		}
		if (*s == '\0')
			return true;
		if (*s++ != '|')
			return false;
	}
}

/* A mistake in the built-in table is a bug of this build: say where. */
static void parse_table(void)
{
	memcpy(text, builtin, sizeof builtin);
	nrules = 0;
	int lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (*line == '#' || *line == '\0')
			continue;
		char *f[9];
		int n = 0;
		for (char *p = line; n < 9 && p; n++) {
			f[n] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
			else if (n < 8)
				err_die(EX_SOFTWARE, "lib/schemes.tsv:%d: %d columns, want 9", lineno, n + 1);
		}
		if (strchr(f[8], '\t'))
			err_die(EX_SOFTWARE, "lib/schemes.tsv:%d: more than 9 columns", lineno);
		for (int i = 0; i < 9; i++)
			if (!*f[i])
				err_die(EX_SOFTWARE, "lib/schemes.tsv:%d: column %d is empty ('-' for none)", lineno,
				        i + 1);
		bool detect = strcmp(f[2], "detect") == 0;
		if (!one_of(f[2], levels) || !one_of(f[4], detect ? detect_checks : rule_checks))
			err_die(EX_SOFTWARE, "lib/schemes.tsv:%d: unknown level '%s' or check '%s'", lineno, f[2],
			        f[4]);
		bool numeric = one_of(f[4], (const char *const[]){"maxlen", "minlen", "length", "decimals", NULL});
		if (numeric && strspn(f[6], "0123456789") != strlen(f[6]))
			err_die(EX_SOFTWARE, "lib/schemes.tsv:%d: %s takes a number, not '%s'", lineno, f[4], f[6]);
		if (!detect && !path_ok(f[5]))
			err_die(EX_SOFTWARE, "lib/schemes.tsv:%d: '%s' is not an object path (58, 62.05, @, @.01, A|B)",
			        lineno, f[5]);
		if (nrules == RULES_MAX)
			err_die(EX_SOFTWARE, "lib/schemes.tsv: more than %d rules", RULES_MAX);
		if (detect)
			for (int id = 0; id < 100; id++)
				detect_roots[nrules][id] =
				    id_in((char[]){(char)('0' + id / 10), (char)('0' + id % 10), 0}, f[5]);
		rules[nrules++] = (struct scheme_rule){f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]};
	}
}

/* Once, whichever thread asks first. */
static void load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, parse_table);
}

const struct scheme_rule *schemes_table(int *n)
{
	load();
	*n = nrules;
	return rules;
}

/* A number in the table (trusted data, checked when it is loaded). */
static int num(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Does a root id match "26-51", "29|30" or "51"? */
static bool id_in(const char *id, const char *spec)
{
	int v = two_digits(id);
	for (const char *p = spec; *p;) {
		int lo = num(p), hi = lo;
		const char *dash = strchr(p, '-'), *bar = strchr(p, '|');
		if (dash && (!bar || dash < bar))
			hi = num(dash + 1);
		if (v >= lo && v <= hi)
			return true;
		p = bar ? bar + 1 : p + strlen(p);
	}
	return false;
}

/* The object a path names: "58", "62.05", "@" or "@.01" (@: the scheme's template). */
static const struct emv_object *resolve(const struct emv_payload *p, const struct emv_object *tmpl, const char *path,
                                        size_t len)
{
	char buf[16];
	if (len >= sizeof buf)
		return NULL;
	memcpy(buf, path, len);
	buf[len] = '\0';
	const char *dot = strchr(buf, '.');
	const struct emv_object *top = buf[0] == '@' ? tmpl : NULL;
	if (buf[0] != '@') {
		char id[3] = {buf[0], buf[1], 0};
		top = emv_find(p, id);
	}
	return dot ? emv_find_sub(top, dot + 1) : top;
}

/* Is v one of "a|b|c"? */
static bool in_list(const char *v, const char *list)
{
	size_t n = strlen(v);
	for (const char *p = list; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : p + len;
	}
	return false;
}

static bool starts_with_one(const char *v, const char *list)
{
	for (const char *p = list; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (strncmp(v, p, len) == 0)
			return true;
		p = bar ? bar + 1 : p + len;
	}
	return false;
}

static bool all_of(const char *v, int (*ok)(int))
{
	for (; *v; v++)
		if ((unsigned char)*v >= 0x80 || !ok((unsigned char)*v))
			return false;
	return true;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}
static int is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_print(int c)
{
	return c >= 0x20 && c < 0x7f;
}

/* The condition of a rule: "-", "OBJ", "!OBJ" or "OBJ=v1|v2". */
static bool applies(const struct emv_payload *p, const struct emv_object *tmpl, const char *when)
{
	if (strcmp(when, "-") == 0)
		return true;
	bool negate = *when == '!';
	const char *path = when + negate, *eq = strchr(path, '=');
	const struct emv_object *o = resolve(p, tmpl, path, eq ? (size_t)(eq - path) : strlen(path));
	bool holds = eq ? o && in_list(o->value, eq + 1) : o != NULL;
	return negate ? !holds : holds;
}

/* 0 if the object keeps the rule, else what was found, in *found. */
static bool breaks(const struct emv_payload *p, const struct emv_object *tmpl, const struct scheme_rule *r, char *found,
                   size_t n)
{
	const char *check = r->check, *arg = r->argument;
	if (strcmp(check, "present") == 0) {
		for (const char *q = r->object; *q;) {
			const char *bar = strchr(q, '|');
			size_t len = bar ? (size_t)(bar - q) : strlen(q);
			if (resolve(p, tmpl, q, len))
				return false;
			q = bar ? bar + 1 : q + len;
		}
		bufprintf(found, n, "absent");
		return true;
	}
	const struct emv_object *o = resolve(p, tmpl, r->object, strlen(r->object));
	if (strcmp(check, "absent") == 0) {
		if (o)
			bufprintf(found, n, "present");
		return o != NULL;
	}
	if (!o) /* a value check on an absent object: a "present" rule says whether that is allowed */
		return false;
	const char *v = o->value;
	bool bad;
	if (strcmp(check, "equals") == 0)
		bad = !in_list(v, arg);
	else if (strcmp(check, "maxlen") == 0)
		bad = o->length > num(arg);
	else if (strcmp(check, "minlen") == 0)
		bad = o->length < num(arg);
	else if (strcmp(check, "length") == 0)
		bad = o->length != num(arg);
	else if (strcmp(check, "digits") == 0)
		bad = !all_of(v, is_digit);
	else if (strcmp(check, "alnum") == 0)
		bad = !all_of(v, is_alnum);
	else if (strcmp(check, "ans") == 0)
		bad = !all_of(v, is_print);
	else if (strcmp(check, "prefix") == 0)
		bad = !starts_with_one(v, arg);
	else if (strcmp(check, "contains") == 0)
		bad = strstr(v, arg) == NULL;
	else { /* decimals */
		const char *dot = strchr(v, '.');
		bad = dot && (int)strlen(dot + 1) > num(arg);
		if (dot && num(arg) == 0)
			bad = true;
	}
	if (bad) {
		if (o->sub)
			bufprintf(found, n, "it is a template of %d characters", o->length);
		else
			bufprintf(found, n, "it is '%.100s'%s", v, strlen(v) > 100 ? "..." : "");
	}
	return bad;
}

static bool gui_hit(const struct scheme_rule *r, const char *gui)
{
	return strcmp(r->check, "gui") == 0            ? strcasecmp(gui, r->argument) == 0
	       : strcmp(r->check, "gui-prefix") == 0   ? strncasecmp(gui, r->argument, strlen(r->argument)) == 0
	       : strcmp(r->check, "gui-contains") == 0 ? strstr(gui, r->argument) != NULL
	                                               : false;
}

/* The template in which a detect rule recognises its scheme, or NULL. With
 * "present" the object itself stands for the template. */
static const struct emv_object *detect(const struct emv_payload *p, const struct scheme_rule *r, int *at)
{
	const bool *roots = detect_roots[r - rules];
	for (int i = 0; i < p->n; i++) {
		const struct emv_object *o = &p->obj[i];
		bool digits = o->id[0] >= '0' && o->id[0] <= '9' && o->id[1] >= '0' && o->id[1] <= '9';
		if (!digits || !roots[(o->id[0] - '0') * 10 + (o->id[1] - '0')])
			continue;
		if (strcmp(r->check, "present") == 0) {
			*at = i;
			return o;
		}
		const struct emv_object *gui = emv_find_sub(o, "00");
		if (!gui)
			continue;
		if (gui_hit(r, gui->value)) {
			*at = i;
			return o;
		}
	}
	return NULL;
}

bool schemes_gui_known(const char *gui)
{
	load();
	for (int i = 0; i < nrules; i++)
		if (strcmp(rules[i].level, "detect") == 0 && gui_hit(&rules[i], gui))
			return true;
	return false;
}

static void note(struct scheme_finding *list, int *n, const struct scheme_rule *r, const char *found)
{
	if (*n == SCHEMES_FINDINGS_MAX)
		return;
	list[*n].rule = r;
	strlcopy(list[*n].found, found, sizeof list[*n].found);
	utf8_scrub(list[*n].found); /* '%.100s' of a value can cut a character */
	(*n)++;
}

/* Check the rules of v->names[k], whose template is tmpl. */
static void apply(const struct emv_payload *p, const struct emv_object *tmpl, int k, struct scheme_verdict *v)
{
	for (int i = 0; i < nrules; i++) {
		const struct scheme_rule *r = &rules[i];
		if (strcmp(r->level, "detect") == 0 || strcmp(v->names[k], r->scheme) != 0)
			continue;
		v->checked[k] = true;
		char found[128];
		if (applies(p, tmpl, r->when) && breaks(p, tmpl, r, found, sizeof found)) {
			if (strcmp(r->level, "must") == 0)
				note(v->broken, &v->nbroken, r, found);
			else
				note(v->warned, &v->nwarned, r, found);
		}
	}
}

void schemes_check(const struct emv_payload *p, struct scheme_verdict *v)
{
	load();
	memset(v, 0, sizeof *v);
	const struct emv_object *tmpl[SCHEMES_FOUND_MAX];
	int where[SCHEMES_FOUND_MAX];
	/* Recognise: the first template that names a scheme stands for it. */
	for (int i = 0; i < nrules; i++) {
		const struct scheme_rule *r = &rules[i];
		if (strcmp(r->level, "detect") != 0)
			continue;
		bool known = false;
		for (int k = 0; k < v->nnames && !known; k++)
			known = strcmp(v->names[k], r->scheme) == 0;
		int at;
		const struct emv_object *t = known ? NULL : detect(p, r, &at);
		if (!t || v->nnames == SCHEMES_FOUND_MAX)
			continue;
		/* Keep the payload's order: insert by position. */
		int k = v->nnames++;
		for (; k > 0 && where[k - 1] > at; k--) {
			v->names[k] = v->names[k - 1];
			tmpl[k] = tmpl[k - 1];
			where[k] = where[k - 1];
		}
		v->names[k] = r->scheme, tmpl[k] = t, where[k] = at;
	}
	for (int k = 0; k < v->nnames; k++)
		apply(p, tmpl[k], k, v);
}

void schemes_check_as(const struct emv_payload *p, const struct emv_object *tmpl, const char *scheme,
                      struct scheme_verdict *v)
{
	load();
	for (int k = 0; k < v->nnames; k++)
		if (strcmp(v->names[k], scheme) == 0)
			return;
	for (int i = 0; i < nrules && v->nnames < SCHEMES_FOUND_MAX; i++)
		if (strcmp(rules[i].scheme, scheme) == 0) {
			v->names[v->nnames] = rules[i].scheme;
			apply(p, tmpl, v->nnames++, v);
			return;
		}
}

void schemes_check_payable(const struct emv_payload *p, const struct networks *nw, const struct emv_object **account,
                           struct scheme_verdict *v)
{
	*account = NULL;
	for (int i = 0; i < p->n && nw && !*account; i++) {
		const struct emv_object *o = &p->obj[i], *gui = emv_find_sub(o, "00");
		/* Only a merchant account template names whom to pay, where the
		 * table looks too: ours at 80 would escape wpay's rules. */
		if (id_in(o->id, "26-51") && gui && emv_find_sub(o, "01") && networks_by_guid(nw, gui->value))
			*account = o;
	}
	schemes_check(p, v);
	if (*account)
		schemes_check_as(p, *account, "wpay", v);
}
