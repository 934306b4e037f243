/* pq: see pq.h. */
#define PQ_LOADER
#include <dlfcn.h>
#include <sysexits.h>

#include "pq.h"

#include "util.h"

/* The soname of PostgreSQL 10 and later (Debian's libpq5). */
#define PQ_SONAME "libpq.so.5"

struct pq_api pq_api;

int pq_load(struct err *e)
{
	/* Ledgers are opened by one thread (the main one): no lock. */
	static bool loaded;
	if (loaded)
		return 0;
	void *lib = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return err_fail(e, EX_UNAVAILABLE, "unavailable",
		                "a PostgreSQL ledger needs libpq, which cannot be loaded (%s); install it (as root): "
		                "apt-get install -y libpq5",
		                dlerror());
	struct pq_api api;
	const char *missing = NULL;
	/* POSIX: a function pointer may hold what dlsym returns. */
#define PQ_RESOLVE(name)                                                                                               \
	if (!(*(void **)&api.name = dlsym(lib, #name)) && !missing)                                                    \
		missing = #name;
	PQ_FUNCTIONS(PQ_RESOLVE)
#undef PQ_RESOLVE
	if (missing) {
		dlclose(lib);
		return err_fail(e, EX_UNAVAILABLE, "unavailable",
		                "the libpq found (" PQ_SONAME ") has no %s: it is older than PostgreSQL 14, which "
		                "wpay needs; install a newer libpq5",
		                missing);
	}
	pq_api = api;
	loaded = true;
	return 0;
}
