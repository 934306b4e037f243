/* networks: see networks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "networks.h"

#include "util.h"

static const char builtin[] =
#include "networks.inc"
    ;

int networks_parse(struct networks *nw, const char *text, const char *source, struct err *e)
{
	memset(nw, 0, sizeof *nw);
	strlcopy(nw->source, source, sizeof nw->source);
	int lineno = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256];
		lineno++;
		if (len >= sizeof buf)
			return err_fail(e, EX_CONFIG, "bad_config", "%s:%d: line too long", source, lineno);
		memcpy(buf, line, len);
		buf[len] = '\0';
		line += len + (end != NULL);
		if (buf[0] == '#' || buf[strspn(buf, " \t\r")] == '\0')
			continue;
		char *fields[4] = {0};
		char *save = NULL, *f = strtok_r(buf, "\t", &save);
		for (int i = 0; i < 4 && f; i++, f = strtok_r(NULL, i == 3 ? "\r" : "\t\r", &save))
			fields[i] = f;
		int id = fields[1] ? (int)strtol(fields[1], NULL, 10) : 0;
		if (!fields[2] || id < 26 || id > 51 || strlen(fields[1]) != 2 || strlen(fields[2]) > 32 ||
		    strlen(fields[0]) >= sizeof nw->n[0].name)
			return err_fail(
			    e, EX_CONFIG, "bad_config",
			    "%s:%d: want name<TAB>id (26-51)<TAB>GUI (at most 32 characters)<TAB>description", source,
			    lineno);
		if (nw->count == NETWORKS_MAX)
			return err_fail(e, EX_CONFIG, "bad_config", "%s: more than %d networks", source, NETWORKS_MAX);
		for (int i = 0; i < nw->count; i++)
			if (strcmp(nw->n[i].name, fields[0]) == 0 || strcmp(nw->n[i].id, fields[1]) == 0)
				return err_fail(e, EX_CONFIG, "bad_config", "%s:%d: network name or id used twice",
				                source, lineno);
		struct network *n = &nw->n[nw->count++];
		strlcopy(n->name, fields[0], sizeof n->name);
		strlcopy(n->id, fields[1], sizeof n->id);
		strlcopy(n->guid, fields[2], sizeof n->guid);
		strlcopy(n->what, fields[3] ? fields[3] : "", sizeof n->what);
	}
	if (nw->count == 0)
		return err_fail(e, EX_CONFIG, "bad_config", "%s names no network", source);
	return 0;
}

int networks_load(struct networks *nw, struct err *e)
{
	const char *env = getenv("WPAY_NETWORKS");
	char *path = NULL;
	if (env && *env) {
		path = xstrdup(env);
	} else {
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		if (xdg && *xdg == '/')
			path = xasprintf("%s/wpay/networks.tsv", xdg);
		else if (home && *home)
			path = xasprintf("%s/.config/wpay/networks.tsv", home);
		FILE *probe = path ? fopen(path, "r") : NULL;
		if (!probe) {
			free(path);
			return networks_parse(nw, builtin, "built-in", e);
		}
		fclose(probe);
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		err_fail(e, EX_NOINPUT, "bad_config", "cannot read networks file %s", path);
		free(path);
		return EX_NOINPUT;
	}
	char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	int rc = networks_parse(nw, text, path, e);
	free(path);
	return rc;
}

const struct network *networks_by_name(const struct networks *nw, const char *name)
{
	for (int i = 0; i < nw->count; i++)
		if (strcmp(nw->n[i].name, name) == 0)
			return &nw->n[i];
	return NULL;
}

const struct network *networks_by_guid(const struct networks *nw, const char *guid)
{
	for (int i = 0; i < nw->count; i++)
		if (strcasecmp(nw->n[i].guid, guid) == 0)
			return &nw->n[i];
	return NULL;
}

bool networks_accepts(const char *list, const char *name)
{
	if (!list)
		return true;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = comma ? comma + 1 : "";
	}
	return false;
}
