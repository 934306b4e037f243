/*
 * wpay-check: prove the books. Recomputes every balance from the
 * transfers, checks that each currency sums to zero and that no account
 * breaks its overdraft rule, and prints one "check" record. Exit 0 when
 * the ledger holds, 65 when it does not (the record lists each violation).
 */
#include <stdio.h>

#include "cli.h"
#include "ledger.h"
#include "records.h"
#include "store.h"

#include "util.h"

static const char usage[] = "wpay-check [--db path]\n";

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	cli_init("wpay-check");
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1)
		cli_common_option(opt, usage);
	if (optind < argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);

	char *db = cli_db_path();
	struct err e = {0};
	struct store *st;
	int rc = store_open(db, false, &st, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	bool ok;
	json_t *rec = ledger_check(st, &ok);
	rec_writer_init();
	bool written = rec_emit(rec);
	if (!ok) {
		json_t *v;
		size_t i;
		json_array_foreach (json_object_get(rec, "violations"), i, v)
			err_warn("%s", json_string_value(json_object_get(v, "message")));
	}
	json_decref(rec);
	store_close(st);
	free(db);
	if (!rec_writer_close() || !written)
		return EX_IOERR;
	return ok ? 0 : EX_DATAERR;
}
