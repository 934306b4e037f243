/* keys: see keys.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "crypto.h"
#include "keys.h"

#include "util.h"

static int mkdir_p(const char *dir, struct err *e)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				rc = err_fail(e, ERR_FAIL, "io", "cannot create directory %s: %s", p, strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc ? EX_CANTCREAT : 0;
}

int keys_check_dir(const char *dir, struct err *e)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0; /* nothing in it to trust yet; reading a file says "run wpay init" */
		return err_fail(e, EX_NOINPUT, "no_key", "cannot use the key directory %s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return err_fail(e, EX_NOPERM, "key_mode",
		                "the key directory %s is not a directory; set WPAY_KEYS to one", dir);
	/* Whoever can write the directory can plant or swap any key in it. */
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return err_fail(e, EX_NOPERM, "key_mode",
		                "the key directory %s belongs to uid %u, not to this user; refusing to trust its keys",
		                dir, (unsigned)st.st_uid);
	if (st.st_mode & 022)
		return err_fail(
		    e, EX_NOPERM, "key_mode",
		    "the key directory %s is writable by group or others (mode %04o), so anyone could plant "
		    "a key in it; run: chmod 700 %s",
		    dir, (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

int keys_open(const char *path, bool public_key, int *fd, struct err *e)
{
	/* Open first, then look at what was opened: a check by name and an
	 * open by name could see two different files. O_NONBLOCK: a FIFO
	 * planted here must not hang us before fstat refuses it. */
	int f = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (f < 0 && errno == ELOOP)
		return err_fail(e, EX_NOPERM, "key_mode",
		                "key file %s is not a regular file (a link?); replace it with the file itself", path);
	if (f < 0)
		return err_fail(e, EX_NOINPUT, "no_key", "cannot read key file %s: %s; run 'wpay init' first", path,
		                strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(f, &st) != 0)
		rc = err_fail(e, EX_IOERR, "io", "cannot read key file %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = err_fail(e, EX_NOPERM, "key_mode",
		              "key file %s is not a regular file (a link?); replace it with the file itself", path);
	/* A public key may be root's (installed for everyone); a secret is ours alone. */
	else if (st.st_uid != geteuid() && (!public_key || st.st_uid != 0))
		rc = err_fail(e, EX_NOPERM, "key_mode",
		              "key file %s belongs to uid %u, not to this user; refusing to trust it", path,
		              (unsigned)st.st_uid);
	else if (!public_key && (st.st_mode & 077))
		rc = err_fail(e, EX_NOPERM, "key_mode",
		              "key file %s is open to group or others (mode %04o); run: chmod 600 %s", path,
		              (unsigned)(st.st_mode & 07777), path);
	/* Anyone may read a public key; whoever can write it can sign as us. */
	else if (public_key && (st.st_mode & 022))
		rc = err_fail(e, EX_NOPERM, "key_mode",
		              "key file %s is writable by group or others (mode %04o); run: chmod 644 %s", path,
		              (unsigned)(st.st_mode & 07777), path);
	if (rc) {
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

int keys_check_file(const char *path, struct err *e)
{
	int fd;
	int rc = keys_open(path, false, &fd, e);
	if (rc == 0)
		close(fd);
	return rc;
}

/* Write data to dir/name unless it exists: temp file, fsync, link. 1 if created. */
static int create_file(const char *dir, const char *name, const void *data, size_t len, struct err *e)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *tmp = xasprintf("%s/.%s.tmp.%ld", dir, name, (long)getpid());
	int rc = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_fail(e, EX_CANTCREAT, "io", "cannot create %s: %s", tmp, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	bool ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	if (close(fd) != 0 || !ok) {
		err_fail(e, EX_IOERR, "io", "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		rc = EX_IOERR;
		goto out;
	}
	if (link(tmp, path) == 0)
		rc = 1;
	else if (errno == EEXIST)
		rc = 0; /* made by someone else meanwhile: keep theirs */
	else {
		err_fail(e, EX_CANTCREAT, "io", "cannot create %s: %s", path, strerror(errno));
		rc = EX_CANTCREAT;
	}
	unlink(tmp);
out:
	free(path);
	free(tmp);
	return rc;
}

static bool exists(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	bool r = lstat(path, &st) == 0;
	free(path);
	return r;
}

int keys_ensure_secret(const char *dir, const char *name, json_t *created, struct err *e)
{
	if (!exists(dir, name)) {
		unsigned char key[KEY_SECRET_LEN];
		char hex[2 * KEY_SECRET_LEN + 2];
		crypto_random(key, sizeof key);
		hex_encode(key, sizeof key, hex);
		strlcopy(hex + 2 * KEY_SECRET_LEN, "\n", 2);
		int rc = create_file(dir, name, hex, strlen(hex), e);
		crypto_wipe(key, sizeof key);
		crypto_wipe(hex, sizeof hex);
		if (rc > 1 || rc < 0)
			return rc;
		if (rc == 1 && created)
			json_array_append_new(created, json_string(name));
	}
	char *path = xasprintf("%s/%s", dir, name);
	int rc = keys_check_file(path, e);
	free(path);
	return rc;
}

/* The key id of a key: the first 4 bytes of the SHA-256 of its raw public key, in hex. */
static bool key_id(EVP_PKEY *key, char kid[KEY_ID_MAX])
{
	unsigned char raw[32], digest[SHA256_LEN];
	size_t raw_len = sizeof raw;
	if (!EVP_PKEY_get_raw_public_key(key, raw, &raw_len))
		return false;
	sha256(raw, raw_len, digest);
	hex_encode(digest, 4, kid);
	return true;
}

static int create_signing_key(const char *dir, json_t *created, struct err *e)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char kid[KEY_ID_MAX], name[64];
	if (!key || !key_id(key, kid)) {
		EVP_PKEY_free(key);
		return err_fail(e, EX_SOFTWARE, "internal", "OpenSSL could not make an Ed25519 key");
	}

	int rc = EX_SOFTWARE;
	char *priv = NULL, *pub = NULL;
	long priv_len, pub_len;
	BIO *bp = BIO_new(BIO_s_secmem()), *bq = BIO_new(BIO_s_mem());
	if (!bp || !bq || !PEM_write_bio_PrivateKey(bp, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_PUBKEY(bq, key)) {
		err_fail(e, ERR_FAIL, "internal", "OpenSSL could not encode the Ed25519 key");
		goto out;
	}
	priv_len = BIO_get_mem_data(bp, &priv);
	pub_len = BIO_get_mem_data(bq, &pub);
	bufprintf(name, sizeof name, "signing-%s.key", kid);
	if ((rc = create_file(dir, name, priv, (size_t)priv_len, e)) > 1 || rc < 0)
		goto out;
	json_array_append_new(created, json_string(name));
	bufprintf(name, sizeof name, "signing-%s.pub", kid);
	if ((rc = create_file(dir, name, pub, (size_t)pub_len, e)) > 1 || rc < 0)
		goto out;
	json_array_append_new(created, json_string(name));
	char line[KEY_ID_MAX + 1];
	bufprintf(line, sizeof line, "%s\n", kid);
	if ((rc = create_file(dir, KEY_SIGNING_CURRENT, line, strlen(line), e)) > 1 || rc < 0)
		goto out;
	if (rc == 1)
		json_array_append_new(created, json_string(KEY_SIGNING_CURRENT));
	rc = 0;
out:
	BIO_free(bp);
	BIO_free(bq);
	EVP_PKEY_free(key);
	return rc;
}

int keys_create(const char *dir, json_t *created, struct err *e)
{
	int rc;
	if ((rc = mkdir_p(dir, e)) != 0 || (rc = keys_check_dir(dir, e)) != 0)
		return rc;
	if ((rc = keys_ensure_secret(dir, KEY_PIN_PEPPER, created, e)) != 0)
		return rc;
	if ((rc = keys_ensure_secret(dir, KEY_CARD_FINGERPRINT, created, e)) != 0)
		return rc;
	if (!exists(dir, KEY_SIGNING_CURRENT) && (rc = create_signing_key(dir, created, e)) != 0)
		return rc;
	char kid[KEY_ID_MAX];
	if ((rc = keys_signing_id(dir, kid, e)) != 0)
		return rc;
	char *path = xasprintf("%s/signing-%s.key", dir, kid);
	rc = keys_check_file(path, e);
	free(path);
	return rc;
}

/* Read a small key file whole, after checking its mode. */
static int read_small(const char *path, char *buf, size_t n, struct err *e)
{
	int fd;
	int rc = keys_open(path, false, &fd, e);
	if (rc)
		return rc;
	ssize_t len = read(fd, buf, n - 1);
	close(fd);
	if (len < 0)
		return err_fail(e, EX_IOERR, "io", "cannot read key file %s: %s", path, strerror(errno));
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

int keys_read_secret(const char *dir, const char *name, unsigned char out[KEY_SECRET_LEN], struct err *e)
{
	char *path = xasprintf("%s/%s", dir, name);
	char hex[2 * KEY_SECRET_LEN + 8];
	int rc = read_small(path, hex, sizeof hex, e);
	if (rc == 0 && !hex_decode(hex, out, KEY_SECRET_LEN))
		rc = err_fail(e, EX_DATAERR, "bad_key",
		              "key file %s does not hold %d hex bytes; restore it from backup", path, KEY_SECRET_LEN);
	crypto_wipe(hex, sizeof hex);
	free(path);
	return rc;
}

int keys_signing_id(const char *dir, char kid[KEY_ID_MAX], struct err *e)
{
	char *path = xasprintf("%s/%s", dir, KEY_SIGNING_CURRENT);
	int rc = read_small(path, kid, KEY_ID_MAX, e);
	if (rc == 0 && (strlen(kid) != 8 || strspn(kid, "0123456789abcdef") != 8))
		rc = err_fail(e, EX_DATAERR, "bad_key", "%s does not name a key id; restore it from backup", path);
	free(path);
	return rc;
}

char *keys_public_path(const char *dir, const char *kid)
{
	return xasprintf("%s/signing-%s.pub", dir, kid);
}

/* A PEM key from a file opened by keys_open (which it closes): private or public. */
static EVP_PKEY *read_pem(int fd, bool public_key)
{
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return NULL;
	}
	EVP_PKEY *key = public_key ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return key;
}

int keys_load_signing(const char *dir, const char *kid, EVP_PKEY **key, struct err *e)
{
	char *path = xasprintf("%s/signing-%s.key", dir, kid);
	int fd;
	int rc = keys_open(path, false, &fd, e);
	if (rc == 0) {
		*key = read_pem(fd, false);
		if (!*key)
			rc = err_fail(e, EX_DATAERR, "bad_key",
			              "cannot read the signing key %s; restore it from backup", path);
	}
	free(path);
	return rc;
}

int keys_load_public(const char *dir, const char *kid, EVP_PKEY **key, struct err *e)
{
	*key = NULL;
	if (strlen(kid) != 8 || strspn(kid, "0123456789abcdef") != 8)
		return err_fail(e, EX_NOINPUT, "no_key", "'%.16s' is not a key id", kid);
	int rc = keys_check_dir(dir, e);
	if (rc)
		return rc;
	char *path = keys_public_path(dir, kid);
	int fd;
	if ((rc = keys_open(path, true, &fd, e)) == 0) {
		char have[KEY_ID_MAX] = "unknown";
		*key = read_pem(fd, true);
		if (!*key)
			rc = err_fail(e, EX_DATAERR, "bad_key", "cannot read the public key %s; restore it from backup",
			              path);
		/* Its name must be its own key id: a key swapped in under
		 * another's name is not that key. */
		else if (!key_id(*key, have) || strcmp(have, kid) != 0)
			rc = err_fail(e, EX_DATAERR, "bad_key",
			              "the public key %s is not key %s (it is key %s); restore it from backup", path,
			              kid, have);
		if (rc) {
			EVP_PKEY_free(*key);
			*key = NULL;
		}
	}
	free(path);
	return rc;
}

struct key_ring {
	char *dir;
	pthread_mutex_t lock;
	struct ring_key {
		char kid[KEY_ID_MAX];
		EVP_PKEY *key;
	} * keys;
	size_t n, cap;
};

struct key_ring *keys_ring_new(const char *dir)
{
	struct key_ring *r = xcalloc(1, sizeof *r);
	r->dir = xstrdup(dir);
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

int keys_ring_public(struct key_ring *r, const char *kid, EVP_PKEY **key, struct err *e)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->keys[i].kid, kid) == 0) {
			*key = r->keys[i].key;
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
	/* Read under the lock: two threads asking for a new id read it once. */
	int rc = keys_load_public(r->dir, kid, key, e);
	if (rc == 0) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4;
			r->keys = xrealloc(r->keys, r->cap * sizeof *r->keys);
		}
		strlcopy(r->keys[r->n].kid, kid, sizeof r->keys[r->n].kid);
		r->keys[r->n++].key = *key;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void keys_ring_free(struct key_ring *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		EVP_PKEY_free(r->keys[i].key);
	free(r->keys);
	pthread_mutex_destroy(&r->lock);
	free(r->dir);
	free(r);
}

int keys_load_public_file(const char *path, EVP_PKEY **key, char kid[KEY_ID_MAX], struct err *e)
{
	*key = NULL;
	/* Named on the command line by its user: read whatever it is, through a
	 * link too, but only a regular file (not a FIFO that never ends). */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return err_fail(e, EX_NOINPUT, "no_key", "cannot open the public key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_fail(e, EX_NOINPUT, "no_key", "the public key %s is not a regular file", path);
	}
	/* A PEM public key is a few hundred bytes; OpenSSL would read a wrong
	 * file of any size to its end looking for one. */
	if (st.st_size > 65536)
		close(fd);
	else
		*key = read_pem(fd, true); /* closes fd */
	/* Other raw keys (X25519) have ids too, but cannot check a signature. */
	if (!*key || !EVP_PKEY_is_a(*key, "ED25519") || !key_id(*key, kid)) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return err_fail(e, EX_DATAERR, "bad_key",
		                "%s is not an Ed25519 public key in PEM (as wpay-init writes signing-KEYID.pub)", path);
	}
	return 0;
}
