/*
 * pq: libpq, loaded the first time a PostgreSQL ledger is opened. Linked
 * in, it and the twenty libraries it needs (Kerberos, LDAP, GnuTLS...)
 * were loaded and relocated by every program at every start, SQLite ledger
 * or not: most of the start-up time of a one-image wpay-scanqr. store_pg.c
 * includes this instead of <libpq-fe.h> and calls PQ* as usual; the names
 * below go through the table pq_load fills.
 */
#ifndef WPAY_PQ_H
#define WPAY_PQ_H

#include <libpq-fe.h>

#include "err.h"

/* Every libpq function wpay calls. */
#define PQ_FUNCTIONS(X)                                                                                                \
	X(PQclear)                                                                                                     \
	X(PQcmdStatus)                                                                                                 \
	X(PQcmdTuples)                                                                                                 \
	X(PQconnectdbParams)                                                                                           \
	X(PQconninfoFree)                                                                                              \
	X(PQconninfoParse)                                                                                             \
	X(PQconsumeInput)                                                                                              \
	X(PQenterPipelineMode)                                                                                         \
	X(PQerrorMessage)                                                                                              \
	X(PQexec)                                                                                                      \
	X(PQfinish)                                                                                                    \
	X(PQflush)                                                                                                     \
	X(PQfreemem)                                                                                                   \
	X(PQftype)                                                                                                     \
	X(PQgetResult)                                                                                                 \
	X(PQgetisnull)                                                                                                 \
	X(PQgetvalue)                                                                                                  \
	X(PQntuples)                                                                                                   \
	X(PQpipelineSync)                                                                                              \
	X(PQresultErrorField)                                                                                          \
	X(PQresultErrorMessage)                                                                                        \
	X(PQresultStatus)                                                                                              \
	X(PQsendPrepare)                                                                                               \
	X(PQsendQueryParams)                                                                                           \
	X(PQsendQueryPrepared)                                                                                         \
	X(PQsetSingleRowMode)                                                                                          \
	X(PQstatus)

struct pq_api {
#define PQ_MEMBER(name) __typeof__(name) *name;
	PQ_FUNCTIONS(PQ_MEMBER)
#undef PQ_MEMBER
};
extern struct pq_api pq_api;

/* Load libpq (once; later calls return at once): 0, or EX_UNAVAILABLE with
 * e saying what is missing and how to install it. */
int pq_load(struct err *e);

#ifndef PQ_LOADER
#define PQclear              pq_api.PQclear
#define PQcmdStatus          pq_api.PQcmdStatus
#define PQcmdTuples          pq_api.PQcmdTuples
#define PQconnectdbParams    pq_api.PQconnectdbParams
#define PQconninfoFree       pq_api.PQconninfoFree
#define PQconninfoParse      pq_api.PQconninfoParse
#define PQconsumeInput       pq_api.PQconsumeInput
#define PQenterPipelineMode  pq_api.PQenterPipelineMode
#define PQerrorMessage       pq_api.PQerrorMessage
#define PQexec               pq_api.PQexec
#define PQfinish             pq_api.PQfinish
#define PQflush              pq_api.PQflush
#define PQfreemem            pq_api.PQfreemem
#define PQftype              pq_api.PQftype
#define PQgetResult          pq_api.PQgetResult
#define PQgetisnull          pq_api.PQgetisnull
#define PQgetvalue           pq_api.PQgetvalue
#define PQntuples            pq_api.PQntuples
#define PQpipelineSync       pq_api.PQpipelineSync
#define PQresultErrorField   pq_api.PQresultErrorField
#define PQresultErrorMessage pq_api.PQresultErrorMessage
#define PQresultStatus       pq_api.PQresultStatus
#define PQsendPrepare        pq_api.PQsendPrepare
#define PQsendQueryParams    pq_api.PQsendQueryParams
#define PQsendQueryPrepared  pq_api.PQsendQueryPrepared
#define PQsetSingleRowMode   pq_api.PQsetSingleRowMode
#define PQstatus             pq_api.PQstatus
#endif

#endif
