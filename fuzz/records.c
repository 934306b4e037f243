/* Fuzz the JSON-lines reader: any bytes, read to the end as records. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("records", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	struct rec_reader r;
	rec_reader_init(&r, fd, "fuzz", 4096); /* a small limit reaches the over-long paths */
	struct rec_buf out = {0};
	for (;;) {
		json_t *rec;
		struct err e;
		int rc = rec_read(&r, &rec, &e);
		if (rc == REC_EOF || rc == REC_IOERR)
			break;
		if (rc == REC_OK) {
			const char *s = NULL;
			int64_t i;
			bool b;
			rec_get_str(rec, "type", false, 64, &s, &e);
			rec_get_int(rec, "amount", false, &i, &e);
			rec_get_bool(rec, "share", false, &b, &e);
			rec_text(rec, &out); /* our writer takes whatever the reader made */
			json_decref(rec);
		}
	}
	rec_buf_free(&out);
	rec_reader_free(&r);
	close(fd);
	return 0;
}
