/*
 * import: move a whole SQLite ledger into an empty PostgreSQL one (wpay
 * init --import): every table, every row, every column, ids kept.
 *
 * The copy runs inside the caller's transaction on the target, so the
 * caller commits it whole or rolls it back: a failure, a kill or a lost
 * connection leaves the target as empty as it was. The source is read in
 * one transaction of its own (SQLite's write lock, so nothing changes
 * under the copy), and left unchanged.
 *
 * Tables go in foreign-key order, each by one SELECT on the source and one
 * INSERT on the target that takes many rows at once (a JSON array of rows,
 * a parameter of one statement: a round trip per thousands of rows, not
 * per row). A wallet's default card is set after the cards; the bindings
 * keep their ids and the identity after them is moved past the largest.
 * Afterwards the rows of every table are counted on both sides and the
 * ledger check (ledger.h) runs on the target: a difference fails the import.
 */
#ifndef WPAY_IMPORT_H
#define WPAY_IMPORT_H

#include <jansson.h>

#include "err.h"
#include "store.h"

/*
 * Copy src (an SQLite ledger) into dst (a PostgreSQL ledger, inside a
 * transaction the caller began) and prove the copy. Settings already in
 * dst are replaced by src's (the caller writes its own after this).
 * Returns 0 with *tables a new object of rows per table, {"settings": N,
 * "accounts": N, ...}; or a sysexits status with e filled in, after which
 * the caller rolls dst back:
 *   64 "bad_config"       src is not SQLite or dst not PostgreSQL
 *   73 "not_empty"        dst already holds accounts, merchants, users,
 *                         wallets or orders
 *   65 "bad_utf8"         a text in src is not UTF-8 (a damaged ledger)
 *   65 "import_mismatch"  a table's rows in dst are not its rows in src
 *   65 "import_check"     the ledger check fails on dst (and so on src)
 *   70 "internal"         the two schemas are not the same version
 */
int import_ledger(struct store *dst, struct store *src, json_t **tables, struct err *e);

#endif
