/*
 * snapshot.c - whole-store snapshots: cn_snapshot_write() and
 * cn_snapshot_restore() (see carnet-backup.h).
 *
 * A snapshot is a gzip-compressed tar archive that a person can read
 * without carnet.  Every member describes the same instant: the store is
 * copied with VACUUM INTO (a read transaction, so it works while other
 * processes write), and the tables and lists are exported from that copy,
 * not from the live store.  The configuration file goes in with every
 * secret value replaced by "<redacted>"; SHA256SUMS, last, holds the
 * checksum of every other member in sha256sum(1) format.
 *
 * The tar writer and reader are small and live here: POSIX ustar headers
 * (name and prefix fields, a pax extended header when a path does not fit
 * them), regular files only.  Compression is zlib's deflate in gzip format
 * and checksums are OpenSSL's SHA-256.  Every file goes through fixed
 * 64 KiB buffers, so memory does not grow with the size of the store.
 *
 * Members are staged in a private directory under $TMPDIR, since a tar
 * header needs a member's size before its data; the directory is removed
 * on every path out.  A restore reads the archive in one pass (so "-",
 * stdin, works): the store copy goes to a temporary file beside the target
 * while every member is hashed; only when the checksums, the copy's
 * integrity and its schema version are right, and the target is empty, is
 * the file renamed into place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>
#include <yaml.h>
#include <zlib.h>

#include "carnet.h"
#include "internal.h"

#define CHUNK ((size_t)64 * 1024)	/* every I/O buffer */
#define BLOCK 512			/* tar block */
#define SUMS_MAX ((size_t)64 << 20)	/* SHA256SUMS, in memory */
#define PAX_MAX ((size_t)1 << 20)	/* a pax or GNU long-name header */
#define YAML_DEPTH 64			/* nesting of a redacted config */
#define REDACTED "<redacted>"

/* ------------------------------------------------------------ helpers */

/* snprintf into a fixed buffer; -1 when it does not fit. */
static int __attribute__((format(printf, 3, 4)))
fmt_path(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void
hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Appends a folder, list or table name as one path component: '/', '\',
 * '%', control characters and a leading '.' become %XX, so every name
 * gives a distinct, safe file name that reads back to the name.
 */
static int
add_component(struct cn_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' ||
		    c == '%' || (i == 0 && c == '.')) {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			if (cn_buf_add(b, e, 3) < 0)
				return -1;
		} else if (cn_buf_addc(b, (char)c) < 0) {
			return -1;
		}
	}
	return 0;
}

/* fsyncs the directory that holds path. */
static int
fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	if (fmt_path(dir, sizeof(dir), "%s", path) < 0)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		memcpy(dir, ".", 2);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Removes path's -wal, -shm and -journal companions, if any. */
static void
unlink_companions(const char *path)
{
	static const char *const ext[] = {"-wal", "-shm", "-journal"};
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (fmt_path(p, sizeof(p), "%s%s", path, ext[i]) == 0)
			unlink(p);
}

/*
 * Removes from dir what killed snapshots left (a SIGKILL leaves no chance
 * to clean up, and each holds a copy of a store): the entries named
 * prefix and n more characters, directories (a snapshot's staging
 * directory) or regular files (a restore's copy beside its target), of
 * this user, untouched for a minute and not locked (a running snapshot or
 * restore locks its own).
 */
static void
sweep_stale(const char *dir, const char *prefix, size_t n, int isdir)
{
	static const char *const inside[] = {
		"carnet.db", "carnet.db-wal", "carnet.db-shm",
		"carnet.db-journal", "member", "config.yaml"
	};
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t pl = strlen(prefix);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat sb;
		char name[NAME_MAX + 16];
		int fd;

		if (strncmp(de->d_name, prefix, pl) != 0 ||
		    strlen(de->d_name) != pl + n)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC | (isdir ? O_DIRECTORY : 0));
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) == 0 && sb.st_uid == getuid() &&
		    (isdir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode)) &&
		    sb.st_mtime < time(NULL) - 60 &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0) {
			for (size_t i = 0; isdir && i < 6; i++)
				unlinkat(fd, inside[i], 0);
			for (size_t i = 0; !isdir && i < 4; i++)
				if (snprintf(name, sizeof(name), "%s%s",
					     de->d_name, ext[i]) <
				    (int)sizeof(name))
					unlinkat(dirfd(d), name, 0);
			if (isdir)
				unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		}
		close(fd);
	}
	closedir(d);
}

/* ------------------------------------------------ config redaction */

/* A mapping key whose value is a secret (the rule of config.c). */
static int
key_is_secret(const char *key)
{
	static const char *const names[] = {
		"password", "token", "auth_token", "secret", "api_key", NULL
	};
	const char *last = strrchr(key, '.');

	last = last ? last + 1 : key;
	for (size_t i = 0; names[i]; i++)
		if (strcasecmp(last, names[i]) == 0)
			return 1;
	return 0;
}

/* An HTTP header (sms.http.headers) that carries credentials. */
static int
header_is_secret(const char *name)
{
	static const char *const parts[] = {
		"auth", "token", "secret", "key", "password", "cookie", NULL
	};

	for (size_t i = 0; parts[i]; i++)
		if (strcasestr(name, parts[i]))
			return 1;
	return 0;
}

/*
 * If s is a URL with user information ("scheme://user:pw@host/..."),
 * returns its length up to the "://" plus 3, and sets *at to the offset of
 * the '@' that ends the user information; else returns 0.
 */
static size_t
url_userinfo(const char *s, size_t n, size_t *at)
{
	const char *p = memmem(s, n, "://", 3);
	size_t start, end, i;

	if (!p || p == s)
		return 0;
	for (const char *q = s; q < p; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' ||
		      *q == '.'))
			return 0;
	start = (size_t)(p - s) + 3;
	for (end = start; end < n && !strchr("/?#", s[end]); end++)
		;
	for (i = end; i > start; i--)
		if (s[i - 1] == '@') {
			*at = i - 1;
			return start;
		}
	return 0;
}

struct yframe {
	int map;		/* mapping (else sequence) */
	int want_key;		/* mapping: the next node is a key */
	int secret;		/* every value below is a secret */
	int headers;		/* the mapping is an sms.http.headers */
	char key[64];		/* mapping: the current key */
};

/* Emits a scalar event with value v in place of ev (which is freed). */
static int
emit_scalar(yaml_emitter_t *em, yaml_event_t *ev, const char *v, size_t n)
{
	yaml_event_t nev;

	yaml_event_delete(ev);
	if (!yaml_scalar_event_initialize(&nev, NULL, NULL,
					  (yaml_char_t *)v, (int)n, 1, 1,
					  YAML_ANY_SCALAR_STYLE))
		return 0;
	return yaml_emitter_emit(em, &nev);
}

/*
 * Copies the YAML document of in to out, event by event, with every
 * secret value replaced by "<redacted>": the values of the keys password,
 * token, auth_token, secret and api_key (and everything below them), of
 * credential headers under a "headers" mapping, and the user information
 * of URLs.  Comments are not kept.  Aliases are refused (the loader
 * refuses them too), so a secret can not travel under another name.
 * name is the file's name, for messages.  Returns 0 or -1 with err.
 */
static int
redact_config(FILE *in, FILE *out, const char *name, struct cn_err *err)
{
	yaml_parser_t p;
	yaml_emitter_t em;
	struct yframe fr[YAML_DEPTH];
	int depth = 0, rc = -1, done = 0;
	struct cn_buf tmp;

	cn_buf_init(&tmp, (size_t)1 << 20);
	if (!yaml_parser_initialize(&p))
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	if (!yaml_emitter_initialize(&em)) {
		yaml_parser_delete(&p);
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	yaml_parser_set_input_file(&p, in);
	yaml_emitter_set_output_file(&em, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	while (!done) {
		yaml_event_t ev;
		struct yframe *up = depth ? &fr[depth - 1] : NULL;
		int is_key = 0, secret = 0, ok;

		if (!yaml_parser_parse(&p, &ev)) {
			cn_err_set(err, CN_ECONFIG, "%s:%zu:%zu: %s", name,
				   p.problem_mark.line + 1,
				   p.problem_mark.column + 1,
				   p.problem ? p.problem : "invalid YAML");
			goto out;
		}
		if (ev.type == YAML_SCALAR_EVENT ||
		    ev.type == YAML_ALIAS_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			is_key = up && up->map && up->want_key;
			secret = up && up->secret;
			if (up && up->map && !is_key)
				secret |= key_is_secret(up->key) ||
					  (up->headers &&
					   header_is_secret(up->key));
			if (up && up->map)
				up->want_key = !up->want_key;
		}
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			cn_err_set(err, CN_ECONFIG, "%s:%zu:%zu: aliases are "
				   "not allowed", name,
				   ev.start_mark.line + 1,
				   ev.start_mark.column + 1);
			yaml_event_delete(&ev);
			goto out;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			size_t n = ev.data.scalar.length, at, pre;

			if (is_key) {
				size_t k = n < sizeof(up->key) - 1
						   ? n
						   : sizeof(up->key) - 1;

				memcpy(up->key, v, k);
				up->key[k] = '\0';
				ok = yaml_emitter_emit(&em, &ev);
			} else if (secret) {
				ok = emit_scalar(&em, &ev, REDACTED,
						 strlen(REDACTED));
			} else if ((pre = url_userinfo(v, n, &at)) > 0) {
				cn_buf_reset(&tmp);
				if (cn_buf_add(&tmp, v, pre) < 0 ||
				    cn_buf_adds(&tmp, REDACTED) < 0 ||
				    cn_buf_add(&tmp, v + at, n - at) < 0) {
					yaml_event_delete(&ev);
					cn_err_set(err, CN_EINTERNAL,
						   "out of memory");
					goto out;
				}
				ok = emit_scalar(&em, &ev, tmp.ptr, tmp.len);
			} else {
				ok = yaml_emitter_emit(&em, &ev);
			}
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == YAML_DEPTH) {
				cn_err_set(err, CN_ECONFIG,
					   "%s:%zu:%zu: nested too deeply",
					   name, ev.start_mark.line + 1,
					   ev.start_mark.column + 1);
				yaml_event_delete(&ev);
				goto out;
			}
			memset(&fr[depth], 0, sizeof(fr[depth]));
			fr[depth].map = ev.type == YAML_MAPPING_START_EVENT;
			fr[depth].want_key = 1;
			fr[depth].secret = secret && !is_key;
			fr[depth].headers = up && up->map && !is_key &&
					    strcmp(up->key, "headers") == 0;
			depth++;
			ok = yaml_emitter_emit(&em, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			ok = yaml_emitter_emit(&em, &ev);
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			ok = yaml_emitter_emit(&em, &ev);
			break;
		default:
			ok = yaml_emitter_emit(&em, &ev);
			break;
		}
		if (!ok) {
			cn_err_set(err, CN_ECANTCREAT, "%s: cannot write the "
				   "redacted copy: %s", name,
				   em.problem ? em.problem : "write error");
			goto out;
		}
	}
	if (!yaml_emitter_flush(&em) || fflush(out) != 0 || ferror(out)) {
		cn_err_set(err, CN_ECANTCREAT, "%s: cannot write the redacted "
			   "copy: %s", name, strerror(errno ? errno : EIO));
		goto out;
	}
	rc = 0;
out:
	yaml_emitter_delete(&em);
	yaml_parser_delete(&p);
	cn_buf_free(&tmp);
	return rc;
}

/* ------------------------------------------------- snapshot writing */

struct snap {
	struct cn_err *err;
	FILE *out;
	z_stream z;
	int zlive;
	unsigned char *zbuf;	/* CHUNK: compressed output */
	unsigned char *io;	/* CHUNK: file data */
	EVP_MD_CTX *md;
	int64_t now;
	long npax;
	char top[64];		/* carnet-snapshot-YYYYMMDDTHHMMSSZ */
	char tmpdir[PATH_MAX];	/* private staging directory */
	char copy[PATH_MAX];	/* tmpdir/carnet.db: the consistent copy */
	char stage[PATH_MAX];	/* tmpdir/member: one member at a time */
	char conf[PATH_MAX];	/* tmpdir/config.yaml: redacted */
	int lockfd;		/* tmpdir, locked while the snapshot runs */
	int have_conf;
	int version;		/* the copy's schema version */
	struct cn_buf sums;	/* SHA256SUMS */
	struct cn_buf path;	/* scratch: member names */
};

static int
write_fail(struct snap *s, const char *what)
{
	return cn_err_set(s->err, CN_ECANTCREAT, "snapshot: %s: %s", what,
			  strerror(errno ? errno : EIO));
}

/* Compresses n bytes to the output. */
static int
gz_write(struct snap *s, const void *data, size_t n, int flush)
{
	s->z.next_in = (Bytef *)data;
	s->z.avail_in = (uInt)n;
	for (;;) {
		size_t have;
		int rc;

		s->z.next_out = s->zbuf;
		s->z.avail_out = (uInt)CHUNK;
		rc = deflate(&s->z, flush);
		if (rc == Z_STREAM_ERROR)
			return cn_err_set(s->err, CN_EINTERNAL,
					  "snapshot: deflate failed");
		have = CHUNK - s->z.avail_out;
		errno = 0;
		if (have && fwrite(s->zbuf, 1, have, s->out) != have)
			return write_fail(s, "write error");
		if (flush == Z_FINISH ? rc == Z_STREAM_END
				      : s->z.avail_out != 0)
			return 0;
	}
}

static void
put_octal(char *field, size_t width, uint64_t v)
{
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0;) {
		field[i] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/* A number in a header field of width bytes: octal when it fits, else
 * GNU/star base-256 (the pax header then carries it too). */
static void
put_number(char *field, size_t width, uint64_t v)
{
	if (v < (uint64_t)1 << (3 * (width - 1))) {
		put_octal(field, width, v);
		return;
	}
	memset(field, 0, width);
	for (size_t i = width; i-- > 1;) {
		field[i] = (char)(v & 0xff);
		v >>= 8;
	}
	field[0] = (char)0x80;
}

/* Writes one 512-byte header block with its checksum. */
static int
tar_block(struct snap *s, const char *name, size_t nlen, const char *prefix,
	  size_t plen, uint64_t size, unsigned mode, char type)
{
	unsigned char h[BLOCK];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, nlen > 100 ? 100 : nlen);
	put_octal((char *)h + 100, 8, mode);
	put_octal((char *)h + 108, 8, 0);	/* uid */
	put_octal((char *)h + 116, 8, 0);	/* gid */
	put_number((char *)h + 124, 12, size);
	put_number((char *)h + 136, 12, s->now > 0 ? (uint64_t)s->now : 0);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);		/* magic, with its NUL */
	memcpy(h + 263, "00", 2);
	put_octal((char *)h + 329, 8, 0);	/* devmajor */
	put_octal((char *)h + 337, 8, 0);	/* devminor */
	memcpy(h + 345, prefix, plen > 155 ? 155 : plen);
	for (size_t i = 0; i < BLOCK; i++)
		sum += h[i];
	put_octal((char *)h + 148, 7, sum);	/* six digits and NUL */
	h[155] = ' ';
	return gz_write(s, h, BLOCK, Z_NO_FLUSH);
}

static int
tar_pad(struct snap *s, uint64_t size)
{
	static const unsigned char zero[BLOCK];
	size_t pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);

	return pad ? gz_write(s, zero, pad, Z_NO_FLUSH) : 0;
}

/* Appends a pax record "LEN key=value\n" (LEN counts itself). */
static int
pax_record(struct cn_buf *b, const char *key, const char *value)
{
	size_t base = 1 + strlen(key) + 1 + strlen(value) + 1, len = base;

	for (;;) {
		char d[24];
		int nd = snprintf(d, sizeof(d), "%zu", len);

		if (base + (size_t)nd == len)
			break;
		len = base + (size_t)nd;
	}
	return cn_buf_addf(b, "%zu %s=%s\n", len, key, value);
}

/*
 * Writes the header of a regular file named path: in the name field, or
 * split at a '/' into prefix and name, else (or when size does not fit in
 * octal) after a pax extended header that holds the path and the size.
 */
static int
tar_header(struct snap *s, const char *path, uint64_t size, unsigned mode)
{
	size_t n = strlen(path), split = 0;
	int big = size >= (uint64_t)1 << 33;

	if (n > 100) {
		for (size_t i = 1; i < n && i <= 155; i++)
			if (path[i] == '/' && n - i - 1 <= 100 && n - i - 1) {
				split = i;
				break;
			}
	}
	if ((n > 100 && !split) || big) {
		struct cn_buf pax;
		char name[100], num[24];
		int rc;

		cn_buf_init(&pax, PAX_MAX);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		if ((n > 100 && !split &&
		     pax_record(&pax, "path", path) < 0) ||
		    (big && pax_record(&pax, "size", num) < 0)) {
			cn_buf_free(&pax);
			return cn_err_set(s->err, CN_EINTERNAL,
					  "snapshot: path too long: %s", path);
		}
		snprintf(name, sizeof(name), "%s/PaxHeaders/%ld", s->top,
			 ++s->npax);
		rc = tar_block(s, name, strlen(name), "", 0, pax.len, 0644,
			       'x');
		if (rc == 0)
			rc = gz_write(s, pax.ptr, pax.len, Z_NO_FLUSH);
		if (rc == 0)
			rc = tar_pad(s, pax.len);
		cn_buf_free(&pax);
		if (rc < 0)
			return -1;
		if (n > 100 && !split)	/* the pax path wins; keep a stub */
			return tar_block(s, path, 100, "", 0, size, mode, '0');
	}
	if (split)
		return tar_block(s, path + split + 1, n - split - 1, path,
				 split, size, mode, '0');
	return tar_block(s, path, n, "", 0, size, mode, '0');
}

/* Records the digest of member rel in SHA256SUMS. */
static int
add_sum(struct snap *s, const unsigned char *md, const char *rel)
{
	char hex[65];

	hex_encode(md, 32, hex);
	if (cn_buf_addf(&s->sums, "%s  %s\n", hex, rel) < 0)
		return cn_err_set(s->err, CN_EINTERNAL,
				  "snapshot: too many members");
	return 0;
}

static int
full_name(struct snap *s, const char *rel)
{
	cn_buf_reset(&s->path);
	if (cn_buf_addf(&s->path, "%s/%s", s->top, rel) < 0)
		return cn_err_set(s->err, CN_EINTERNAL, "out of memory");
	return 0;
}

/* Adds a member from memory; its checksum goes to SHA256SUMS if sum. */
static int
tar_add_mem(struct snap *s, const char *rel, const void *data, size_t n,
	    int sum)
{
	unsigned char md[32];

	if (full_name(s, rel) < 0 ||
	    tar_header(s, s->path.ptr, n, 0600) < 0 ||
	    gz_write(s, data, n, Z_NO_FLUSH) < 0 || tar_pad(s, n) < 0)
		return -1;
	if (!sum)
		return 0;
	if (!EVP_Digest(data, n, md, NULL, EVP_sha256(), NULL))
		return cn_err_set(s->err, CN_EINTERNAL, "snapshot: sha256");
	return add_sum(s, md, rel);
}

/* Adds the contents of fp (from its start, size bytes) as member rel. */
static int
tar_add_file(struct snap *s, const char *rel, FILE *fp, uint64_t size,
	     unsigned mode)
{
	unsigned char md[32];
	uint64_t left = size;

	if (full_name(s, rel) < 0 || tar_header(s, s->path.ptr, size, mode) < 0)
		return -1;
	if (!EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))
		return cn_err_set(s->err, CN_EINTERNAL, "snapshot: sha256");
	rewind(fp);
	while (left > 0) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;

		errno = 0;
		if (fread(s->io, 1, want, fp) != want)
			return cn_err_set(s->err, CN_EINTERNAL,
					  "snapshot: %s: short read: %s", rel,
					  strerror(errno ? errno : EIO));
		if (!EVP_DigestUpdate(s->md, s->io, want) ||
		    gz_write(s, s->io, want, Z_NO_FLUSH) < 0)
			return -1;
		left -= want;
	}
	if (!EVP_DigestFinal_ex(s->md, md, NULL))
		return cn_err_set(s->err, CN_EINTERNAL, "snapshot: sha256");
	if (tar_pad(s, size) < 0)
		return -1;
	return add_sum(s, md, rel);
}

/* Opens the staging file, empty. */
static FILE *
stage_open(struct snap *s)
{
	FILE *fp = fopen(s->stage, "w+");

	if (!fp)
		write_fail(s, s->stage);
	return fp;
}

/* Adds the staged file as member rel, then removes it. */
static int
stage_add(struct snap *s, FILE *fp, const char *rel)
{
	struct stat sb;
	int rc;

	errno = 0;
	if (fflush(fp) != 0 || ferror(fp) || fstat(fileno(fp), &sb) < 0) {
		rc = write_fail(s, s->stage);
	} else {
		rc = tar_add_file(s, rel, fp, (uint64_t)sb.st_size, 0600);
	}
	fclose(fp);
	unlink(s->stage);
	return rc;
}

/* Writes one table of the copy as CSV (header row; BLOBs in hex). */
static int
export_table(struct snap *s, sqlite3 *db, const char *table, FILE *fp)
{
	sqlite3_stmt *q = NULL;
	struct cn_writer *w = NULL;
	struct cn_record rec;
	struct cn_buf hex;
	const char **cols = NULL;
	char *sql;
	int ncol, rc = -1, step;

	cn_record_init(&rec);
	cn_buf_init(&hex, 0);
	sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
	if (!sql) {
		cn_err_set(s->err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		cn_sql_fail(s->err, db, "snapshot");
		goto out;
	}
	ncol = sqlite3_column_count(q);
	cols = calloc((size_t)ncol + 1, sizeof(*cols));
	if (!cols) {
		cn_err_set(s->err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < ncol; i++)
		cols[i] = sqlite3_column_name(q, i);
	w = cn_writer_open(fp, CN_FMT_CSV, cols, (size_t)ncol, NULL, s->err);
	if (!w)
		goto out;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		cn_record_reset(&rec);
		for (int i = 0; i < ncol; i++) {
			int t = sqlite3_column_type(q, i), r;

			if (t == SQLITE_NULL) {
				r = cn_record_add(&rec, cols[i], NULL, 0,
						  CN_V_NULL);
			} else if (t == SQLITE_BLOB) {
				const unsigned char *b = sqlite3_column_blob(q,
									     i);
				size_t n = (size_t)sqlite3_column_bytes(q, i);

				cn_buf_reset(&hex);
				r = 0;
				for (size_t j = 0; j < n && r == 0; j++)
					r = cn_buf_addf(&hex, "%02x", b[j]);
				if (r == 0)
					r = cn_record_add(&rec, cols[i],
							  hex.ptr, hex.len,
							  CN_V_STR);
			} else {
				const char *v = (const char *)
					sqlite3_column_text(q, i);

				r = cn_record_add(&rec, cols[i], v ? v : "",
						  (size_t)sqlite3_column_bytes(
							  q, i),
						  CN_V_STR);
			}
			if (r < 0) {
				cn_err_set(s->err, CN_EINTERNAL,
					   "out of memory");
				goto out;
			}
		}
		if (cn_writer_put(w, &rec, s->err) < 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		cn_sql_fail(s->err, db, "snapshot");
		goto out;
	}
	rc = 0;
out:
	if (w && cn_writer_close(w, rc == 0 ? s->err : NULL) < 0)
		rc = -1;
	sqlite3_finalize(q);
	sqlite3_free(sql);
	free(cols);
	cn_record_free(&rec);
	cn_buf_free(&hex);
	return rc;
}

/* Each table of the copy (not SQLite's own) as tables/TABLE.csv. */
static int
add_tables(struct snap *s, sqlite3 *db)
{
	sqlite3_stmt *q;
	struct cn_buf rel;
	int rc = 0, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type"
			       " = 'table' AND name NOT LIKE 'sqlite\\_%' "
			       "ESCAPE '\\' ORDER BY name", -1, &q, NULL))
		return cn_sql_fail(s->err, db, "snapshot");
	cn_buf_init(&rel, 0);
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		FILE *fp;

		cn_buf_reset(&rel);
		if (cn_buf_adds(&rel, "tables/") < 0 ||
		    add_component(&rel, t) < 0 ||
		    cn_buf_adds(&rel, ".csv") < 0) {
			rc = cn_err_set(s->err, CN_EINTERNAL, "out of memory");
			break;
		}
		if (!(fp = stage_open(s))) {
			rc = -1;
			break;
		}
		if (export_table(s, db, t, fp) < 0) {
			fclose(fp);
			unlink(s->stage);
			rc = -1;
			break;
		}
		rc = stage_add(s, fp, rel.ptr);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = cn_sql_fail(s->err, db, "snapshot");
	sqlite3_finalize(q);
	cn_buf_free(&rel);
	return rc;
}

struct list_ctx {
	struct snap *s;
	struct cn_store *cp;
	sqlite3_stmt *names;	/* the untruncated names of a list */
	int rc;
};

/* cn_lists_each callback: one list as lists/FOLDER/LIST.csv. */
static int
add_one_list(void *ctx, const struct cn_list_info *li)
{
	struct list_ctx *lc = ctx;
	struct snap *s = lc->s;
	sqlite3 *db = cn_store_db(lc->cp);
	struct cn_buf rel;
	const char *folder, *list;
	FILE *fp;

	/* cn_list_info holds names in fixed arrays: take them whole */
	sqlite3_reset(lc->names);
	sqlite3_bind_int64(lc->names, 1, li->id);
	if (sqlite3_step(lc->names) != SQLITE_ROW) {
		lc->rc = cn_sql_fail(s->err, db, "snapshot");
		return 1;
	}
	folder = (const char *)sqlite3_column_text(lc->names, 0);
	list = (const char *)sqlite3_column_text(lc->names, 1);
	cn_buf_init(&rel, 0);
	if (cn_buf_adds(&rel, "lists/") < 0 ||
	    add_component(&rel, folder) < 0 || cn_buf_addc(&rel, '/') < 0 ||
	    add_component(&rel, list) < 0 || cn_buf_adds(&rel, ".csv") < 0) {
		cn_buf_free(&rel);
		lc->rc = cn_err_set(s->err, CN_EINTERNAL, "out of memory");
		return 1;
	}
	if (!(fp = stage_open(s))) {
		cn_buf_free(&rel);
		lc->rc = -1;
		return 1;
	}
	if (cn_contacts_export(lc->cp, folder, list, fp, CN_FMT_CSV, NULL,
			       s->err) < 0) {
		fclose(fp);
		unlink(s->stage);
		lc->rc = -1;
	} else {
		lc->rc = stage_add(s, fp, rel.ptr);
	}
	cn_buf_free(&rel);
	return lc->rc != 0;
}

/* Every list of the copy, exported as carnet-contacts export does. */
static int
add_lists(struct snap *s)
{
	struct list_ctx lc = {.s = s};
	int rc;

	/* a store handle on the copy (the copy is already in the archive;
	 * opening it switches it to WAL, which no longer matters) */
	lc.cp = cn_store_open(s->copy, 0, s->err);
	if (!lc.cp)
		return -1;
	/* the exports read each page once: a small cache will do */
	sqlite3_exec(cn_store_db(lc.cp), "PRAGMA cache_size=-4096", NULL, NULL,
		     NULL);
	if (sqlite3_prepare_v2(cn_store_db(lc.cp),
			       "SELECT f.name, l.name FROM list l JOIN folder "
			       "f ON f.id = l.folder_id WHERE l.id = ?1", -1,
			       &lc.names, NULL)) {
		rc = cn_sql_fail(s->err, cn_store_db(lc.cp), "snapshot");
	} else {
		rc = cn_lists_each(lc.cp, NULL, add_one_list, &lc, s->err);
		if (rc == 0)
			rc = lc.rc;
	}
	sqlite3_finalize(lc.names);
	cn_store_close(lc.cp);
	return rc;
}

static int64_t
count_rows(sqlite3 *db, const char *table)
{
	char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", table);
	sqlite3_stmt *q;
	int64_t n = -1;

	if (sql && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_free(sql);
	return n;
}

/* README.txt: what each member is, the versions and the time. */
static int
make_readme(struct snap *s, sqlite3 *db, struct cn_buf *b)
{
	sqlite3_stmt *q;
	char iso[32];
	time_t t = (time_t)s->now;
	struct tm tm;
	int64_t nlists = count_rows(db, "list");
	int rc = 0;

	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc |= cn_buf_addf(b,
		"carnet snapshot\n"
		"===============\n"
		"\n"
		"Taken:          %s (UTC)\n"
		"carnet version: %s\n"
		"Schema version: %d\n"
		"\n"
		"A copy of a whole carnet store, readable without carnet.  "
		"Every file\n"
		"describes the same instant: carnet.db was copied with "
		"SQLite's VACUUM INTO\n"
		"and the CSV files were exported from that copy.\n"
		"\n"
		"README.txt        this file\n"
		"carnet.db         the store: an SQLite 3 database "
		"(sqlite3 carnet.db)\n"
		"tables/TABLE.csv  every table of the store, one file "
		"each: a header row,\n"
		"                  then one row per record; UTF-8, "
		"comma-separated, fields\n"
		"                  quoted as RFC 4180 says; NULL is an "
		"empty field; binary\n"
		"                  values are written in hexadecimal; times "
		"are Unix seconds\n"
		"lists/FOLDER/LIST.csv\n"
		"                  every contact list (%lld), as "
		"'carnet-contacts export'\n"
		"                  writes it: id, email, phone, first_name, "
		"last_name, then\n"
		"                  the list's attribute columns\n",
		iso, CN_VERSION, s->version, (long long)nlists);
	rc |= cn_buf_addf(b, s->have_conf
		? "config.yaml       the configuration file in use, with "
		  "every secret (passwords,\n"
		  "                  tokens, credentials in URLs and "
		  "headers) replaced by\n"
		  "                  " REDACTED "; comments are not kept\n"
		: "                  (no configuration file was in use: "
		  "there is no config.yaml)\n");
	rc |= cn_buf_addf(b,
		"SHA256SUMS        the SHA-256 checksum of every other file;"
		" check them with\n"
		"                  sha256sum -c SHA256SUMS\n"
		"\n"
		"In file names, '/', '\\', '%%', control characters and a "
		"leading '.' of a\n"
		"folder, list or table name are written %%XX (hexadecimal "
		"byte value).\n"
		"\n"
		"Tables (rows):\n");
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type"
			       " = 'table' AND name NOT LIKE 'sqlite\\_%' "
			       "ESCAPE '\\' ORDER BY name", -1, &q, NULL))
		return cn_sql_fail(s->err, db, "snapshot");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);

		rc |= cn_buf_addf(b, "  %-20s %lld\n", name,
				  (long long)count_rows(db, name));
	}
	sqlite3_finalize(q);
	rc |= cn_buf_addf(b,
		"\n"
		"To make this snapshot a store again (into a new or empty "
		"store only):\n"
		"\n"
		"  carnet-restore --snapshot ARCHIVE.tar.gz --store "
		"/path/to/carnet.db\n"
		"\n"
		"or, without carnet: copy carnet.db where the store "
		"should be (mode 0600).\n");
	if (rc)
		return cn_err_set(s->err, CN_EINTERNAL, "out of memory");
	return 0;
}

/*
 * The consistent copy: VACUUM INTO a new file of the staging directory.
 * The copy's page cache is as large as the store's, and every page is
 * read once: the store's cache is made small for the copy, then put back.
 */
static int
copy_store(struct snap *s, struct cn_store *st)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *q;
	char pragma[64];
	int rc, cache = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			cache = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	if (cache)
		sqlite3_exec(db, "PRAGMA cache_size=-2048", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(q, 1, s->copy, -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		if (rc != SQLITE_DONE)
			cn_sql_fail(s->err, db, "snapshot: copy of the store");
		sqlite3_finalize(q);
	} else {
		rc = cn_sql_fail(s->err, db, "snapshot: copy of the store");
	}
	if (cache) {
		snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=%d", cache);
		sqlite3_exec(db, pragma, NULL, NULL, NULL);
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Redacts config_path into the staging directory, before any output. */
static int
stage_config(struct snap *s, const char *config_path)
{
	FILE *in, *out;
	int rc;

	in = fopen(config_path, "r");
	if (!in)
		return cn_err_set(s->err, errno == ENOENT ? CN_ENOINPUT
							   : CN_ECONFIG,
				  "%s: cannot read: %s", config_path,
				  strerror(errno));
	out = fopen(s->conf, "w");
	if (!out) {
		fclose(in);
		return write_fail(s, s->conf);
	}
	s->have_conf = 1;
	rc = redact_config(in, out, config_path, s->err);
	fclose(in);
	if (fclose(out) != 0 && rc == 0)
		rc = write_fail(s, s->conf);
	return rc;
}

static int
add_path(struct snap *s, const char *path, const char *rel, unsigned mode)
{
	FILE *fp = fopen(path, "rb");
	struct stat sb;
	int rc;

	if (!fp)
		return write_fail(s, path);
	if (fstat(fileno(fp), &sb) < 0)
		rc = write_fail(s, path);
	else
		rc = tar_add_file(s, rel, fp, (uint64_t)sb.st_size, mode);
	fclose(fp);
	return rc;
}

int
cn_snapshot_write(struct cn_store *st, const char *config_path, FILE *out,
		  struct cn_err *err)
{
	static const unsigned char zero[2 * BLOCK];
	struct snap s;
	sqlite3 *ro = NULL;
	struct cn_buf readme;
	const char *tmp = getenv("TMPDIR");
	time_t t;
	struct tm tm;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.err = err;
	s.out = out;
	s.lockfd = -1;
	cn_buf_init(&s.sums, SUMS_MAX);
	cn_buf_init(&s.path, 0);
	cn_buf_init(&readme, 0);
	if (!st || !out) {
		cn_err_set(err, CN_EUSAGE, "snapshot: no store or no output");
		goto out;
	}
	s.now = cn_now();
	t = (time_t)s.now;
	gmtime_r(&t, &tm);
	strftime(s.top, sizeof(s.top), "carnet-snapshot-%Y%m%dT%H%M%SZ", &tm);
	s.zbuf = malloc(CHUNK);
	s.io = malloc(CHUNK);
	s.md = EVP_MD_CTX_new();
	if (!s.zbuf || !s.io || !s.md) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	if (fmt_path(s.tmpdir, sizeof(s.tmpdir), "%s/carnet-snapshot.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp") < 0 ||
	    fmt_path(s.conf, sizeof(s.conf), "%s/config.yaml", s.tmpdir) < 0) {
		s.tmpdir[0] = '\0';
		cn_err_set(err, CN_ECANTCREAT, "snapshot: $TMPDIR is too long");
		goto out;
	}
	sweep_stale(tmp && *tmp ? tmp : "/tmp", "carnet-snapshot.", 6, 1);
	if (!mkdtemp(s.tmpdir)) {
		write_fail(&s, "cannot create a temporary directory");
		s.tmpdir[0] = '\0';
		goto out;
	}
	s.lockfd = open(s.tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.lockfd >= 0)
		flock(s.lockfd, LOCK_EX);
	/* same length as the template: these fit */
	fmt_path(s.copy, sizeof(s.copy), "%s/carnet.db", s.tmpdir);
	fmt_path(s.stage, sizeof(s.stage), "%s/member", s.tmpdir);
	fmt_path(s.conf, sizeof(s.conf), "%s/config.yaml", s.tmpdir);

	/* everything that can fail for a reason of its own comes before
	 * the first byte of output */
	if (copy_store(&s, st) < 0)
		goto out;
	cn_crashpoint("snapshot.copied");
	if (sqlite3_open_v2(s.copy, &ro, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		cn_sql_fail(err, ro, "snapshot: copy of the store");
		goto out;
	}
	{
		sqlite3_stmt *q;

		if (sqlite3_prepare_v2(ro, "PRAGMA user_version", -1, &q,
				       NULL)) {
			cn_sql_fail(err, ro, "snapshot");
			goto out;
		}
		s.version = sqlite3_step(q) == SQLITE_ROW
				    ? sqlite3_column_int(q, 0)
				    : -1;
		sqlite3_finalize(q);
	}
	if (config_path && stage_config(&s, config_path) < 0)
		goto out;
	if (make_readme(&s, ro, &readme) < 0)
		goto out;
	if (deflateInit2(&s.z, 6, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		cn_err_set(err, CN_EINTERNAL, "snapshot: deflateInit failed");
		goto out;
	}
	s.zlive = 1;

	if (tar_add_mem(&s, "README.txt", readme.ptr, readme.len, 1) < 0 ||
	    add_path(&s, s.copy, "carnet.db", 0600) < 0 ||
	    add_tables(&s, ro) < 0)
		goto out;
	sqlite3_close(ro);
	ro = NULL;
	if (add_lists(&s) < 0)
		goto out;
	if (s.have_conf && add_path(&s, s.conf, "config.yaml", 0600) < 0)
		goto out;
	if (tar_add_mem(&s, "SHA256SUMS", s.sums.ptr, s.sums.len, 0) < 0 ||
	    gz_write(&s, zero, sizeof(zero), Z_FINISH) < 0)
		goto out;
	errno = 0;
	if (fflush(out) != 0 || ferror(out)) {
		write_fail(&s, "write error");
		goto out;
	}
	rc = 0;
out:
	if (ro)
		sqlite3_close(ro);
	if (s.zlive)
		deflateEnd(&s.z);
	if (s.tmpdir[0]) {
		unlink(s.copy);
		unlink_companions(s.copy);
		unlink(s.stage);
		unlink(s.conf);
		rmdir(s.tmpdir);
	}
	if (s.lockfd >= 0)
		close(s.lockfd);
	EVP_MD_CTX_free(s.md);
	free(s.zbuf);
	free(s.io);
	cn_buf_free(&s.sums);
	cn_buf_free(&s.path);
	cn_buf_free(&readme);
	return rc;
}

/* ------------------------------------------------------- restoring */

struct member {
	char *name;		/* normalised path in the archive */
	unsigned char md[32];	/* SHA-256 of its data */
};

struct rst {
	struct cn_err *err;
	const char *aname;	/* the archive, for messages */
	FILE *in;
	z_stream z;
	int zlive, zend, eof;
	unsigned char *ibuf;	/* CHUNK: compressed input */
	unsigned char *io;	/* CHUNK: member data */
	EVP_MD_CTX *md;
	struct member *mem;
	size_t nmem, amem;
	char *dbname;		/* the member that is the store copy */
	char *sumsname;		/* the member that is SHA256SUMS */
	struct cn_buf sums;
	char tmp[PATH_MAX];	/* the copy, beside the target */
	int tmpfd;
	int lockfd;		/* tmp, locked while the restore runs */
};

static int
damaged(struct rst *r, const char *why)
{
	return cn_err_set(r->err, CN_EDATA, "%s: damaged archive: %s",
			  r->aname, why);
}

/*
 * Reads up to n decompressed bytes into buf; *got < n only at the end of
 * the compressed stream.  A stream that stops before its end, or whose
 * CRC does not match, is an error.
 */
static int
gz_read(struct rst *r, void *buf, size_t n, size_t *got)
{
	r->z.next_out = buf;
	r->z.avail_out = (uInt)n;
	while (r->z.avail_out > 0 && !r->zend) {
		int rc;

		if (r->z.avail_in == 0 && !r->eof) {
			size_t k = fread(r->ibuf, 1, CHUNK, r->in);

			if (k == 0 && ferror(r->in))
				return cn_err_set(r->err, CN_ENOINPUT,
						  "%s: read error: %s",
						  r->aname, strerror(errno));
			if (k == 0)
				r->eof = 1;
			r->z.next_in = r->ibuf;
			r->z.avail_in = (uInt)k;
		}
		rc = inflate(&r->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			/* another gzip member may follow (cat a.gz b.gz) */
			if (r->z.avail_in == 0 && !r->eof) {
				size_t k = fread(r->ibuf, 1, CHUNK, r->in);

				r->z.next_in = r->ibuf;
				r->z.avail_in = (uInt)k;
				if (k == 0)
					r->eof = 1;
			}
			if (r->z.avail_in == 0)
				r->zend = 1;
			else if (inflateReset(&r->z) != Z_OK)
				return damaged(r, "inflateReset");
		} else if (rc == Z_BUF_ERROR) {
			if (r->z.avail_in == 0 && r->eof)
				return cn_err_set(r->err, CN_EDATA,
						  "%s: truncated archive",
						  r->aname);
		} else if (rc != Z_OK) {
			if (r->z.total_out == 0)
				return cn_err_set(r->err, CN_EDATA,
						  "%s: not a gzip-compressed "
						  "archive", r->aname);
			return damaged(r, r->z.msg ? r->z.msg : "bad data");
		}
	}
	*got = n - r->z.avail_out;
	return 0;
}

static int
gz_read_full(struct rst *r, void *buf, size_t n)
{
	size_t got;

	if (gz_read(r, buf, n, &got) < 0)
		return -1;
	if (got < n)
		return cn_err_set(r->err, CN_EDATA, "%s: truncated archive",
				  r->aname);
	return 0;
}

/* Parses a numeric header field: octal, or base-256. */
static int
get_number(const unsigned char *f, size_t w, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1;	/* negative, or too large */
		for (i = 1; i < w; i++) {
			if (v >> 56)
				return -1;
			v = (v << 8) | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < w && f[i] == ' ')
		i++;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	if (i < w && f[i] != ' ' && f[i] != '\0')
		return -1;
	*out = v;
	return 0;
}

/*
 * Normalises an archive path into b: drops empty and "." components;
 * refuses absolute paths and "..".  Returns 0, or -1 with err.
 */
static int
norm_path(struct rst *r, const char *p, struct cn_buf *b)
{
	cn_buf_reset(b);
	if (p[0] == '/')
		return cn_err_set(r->err, CN_EDATA, "%s: member '%.200s' has "
				  "an absolute path", r->aname, p);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return cn_err_set(r->err, CN_EDATA, "%s: member "
					  "'%.200s' leaves its directory "
					  "('..')", r->aname, p);
		if (n && !(n == 1 && p[0] == '.')) {
			if ((b->len && cn_buf_addc(b, '/') < 0) ||
			    cn_buf_add(b, p, n) < 0)
				return cn_err_set(r->err, CN_EINTERNAL,
						  "out of memory");
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* Reads a small member (pax header, GNU long name) into b. */
static int
read_small(struct rst *r, uint64_t size, struct cn_buf *b)
{
	uint64_t padded = (size + BLOCK - 1) / BLOCK * BLOCK;

	cn_buf_reset(b);
	if (size > PAX_MAX)
		return damaged(r, "oversized extended header");
	while (padded > 0) {
		size_t want = padded < CHUNK ? (size_t)padded : CHUNK;
		size_t keep = size < want ? (size_t)size : want;

		if (gz_read_full(r, r->io, want) < 0)
			return -1;
		if (cn_buf_add(b, r->io, keep) < 0)
			return cn_err_set(r->err, CN_EINTERNAL,
					  "out of memory");
		size -= keep;
		padded -= want;
	}
	return 0;
}

/* Applies the path and size records of a pax extended header. */
static int
pax_parse(struct rst *r, const struct cn_buf *b, struct cn_buf *path,
	  uint64_t *size, int *have_size)
{
	const char *p = b->ptr, *end = b->ptr + b->len;

	while (p < end) {
		const char *sp, *eq, *rec_end;
		uint64_t len = 0;

		for (sp = p; sp < end && *sp >= '0' && *sp <= '9'; sp++)
			len = len * 10 + (uint64_t)(*sp - '0');
		if (sp == p || sp >= end || *sp != ' ' || len < 5 ||
		    len > (uint64_t)(end - p))
			return damaged(r, "bad pax header");
		rec_end = p + len;	/* one past the '\n' */
		if (rec_end[-1] != '\n')
			return damaged(r, "bad pax header");
		eq = memchr(sp + 1, '=', (size_t)(rec_end - sp - 1));
		if (!eq)
			return damaged(r, "bad pax header");
		if (eq - sp - 1 == 4 && memcmp(sp + 1, "path", 4) == 0) {
			cn_buf_reset(path);
			if (cn_buf_add(path, eq + 1,
				       (size_t)(rec_end - 1 - eq - 1)) < 0)
				return cn_err_set(r->err, CN_EINTERNAL,
						  "out of memory");
		} else if (eq - sp - 1 == 4 &&
			   memcmp(sp + 1, "size", 4) == 0) {
			uint64_t v = 0;
			const char *q;

			for (q = eq + 1; q < rec_end - 1; q++) {
				if (*q < '0' || *q > '9' || v > UINT64_MAX / 10)
					return damaged(r, "bad pax size");
				v = v * 10 + (uint64_t)(*q - '0');
			}
			*size = v;
			*have_size = 1;
		}
		p = rec_end;
	}
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The path depth of a normalised name ("a/b" is 2). */
static int
depth_of(const char *name)
{
	int d = 1;

	for (; *name; name++)
		d += *name == '/';
	return d;
}

static const char *
base_of(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

/* Reads the data of a regular member: hashes it, and extracts it when it
 * is the store copy, or keeps it when it is SHA256SUMS. */
static int
read_member(struct rst *r, const char *name, uint64_t size)
{
	uint64_t left = size, padded = (size + BLOCK - 1) / BLOCK * BLOCK;
	int is_db = 0, is_sums = 0;
	struct member *m;

	if (depth_of(name) <= 2 && strcmp(base_of(name), "carnet.db") == 0)
		is_db = 1;
	else if (depth_of(name) <= 2 &&
		 strcmp(base_of(name), "SHA256SUMS") == 0)
		is_sums = 1;
	if ((is_db && r->dbname) || (is_sums && r->sumsname))
		return cn_err_set(r->err, CN_EDATA, "%s: holds more than one "
				  "%s", r->aname, base_of(name));
	if (is_sums && size > SUMS_MAX)
		return damaged(r, "SHA256SUMS is too large");
	if (r->nmem == r->amem) {
		size_t na = r->amem ? r->amem * 2 : 64;
		struct member *nm = realloc(r->mem, na * sizeof(*nm));

		if (!nm)
			return cn_err_set(r->err, CN_EINTERNAL,
					  "out of memory");
		r->mem = nm;
		r->amem = na;
	}
	m = &r->mem[r->nmem];
	if (!(m->name = strdup(name)))
		return cn_err_set(r->err, CN_EINTERNAL, "out of memory");
	r->nmem++;
	if (is_db)
		r->dbname = m->name;
	if (is_sums)
		r->sumsname = m->name;
	if (!EVP_DigestInit_ex(r->md, EVP_sha256(), NULL))
		return cn_err_set(r->err, CN_EINTERNAL, "sha256");
	while (padded > 0) {
		size_t want = padded < CHUNK ? (size_t)padded : CHUNK;
		size_t keep = left < want ? (size_t)left : want;

		if (gz_read_full(r, r->io, want) < 0)
			return -1;
		if (!EVP_DigestUpdate(r->md, r->io, keep))
			return cn_err_set(r->err, CN_EINTERNAL, "sha256");
		if (is_db && keep && write_all(r->tmpfd, r->io, keep) < 0)
			return cn_err_set(r->err, CN_ECANTCREAT,
					  "%s: cannot write: %s", r->tmp,
					  strerror(errno));
		if (is_sums && cn_buf_add(&r->sums, r->io, keep) < 0)
			return cn_err_set(r->err, CN_EINTERNAL,
					  "out of memory");
		left -= keep;
		padded -= want;
	}
	if (!EVP_DigestFinal_ex(r->md, m->md, NULL))
		return cn_err_set(r->err, CN_EINTERNAL, "sha256");
	return 0;
}

/* Reads the whole archive: every header and member, to the end of the
 * compressed stream. */
static int
read_archive(struct rst *r)
{
	unsigned char h[BLOCK];
	struct cn_buf lname, name, ext;
	uint64_t xsize = 0;
	int have_lname = 0, have_xsize = 0, rc = -1, nhead = 0;

	cn_buf_init(&lname, PAX_MAX);
	cn_buf_init(&name, 0);
	cn_buf_init(&ext, PAX_MAX);
	for (;;) {
		uint64_t size, chk;
		unsigned sum_u = 0;
		int sum_s = 0, ustar, zero = 1;
		char type;

		if (gz_read_full(r, h, BLOCK) < 0)
			goto out;
		for (size_t i = 0; i < BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero)
			break;	/* end of archive */
		for (size_t i = 0; i < BLOCK; i++) {
			unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];

			sum_u += c;
			sum_s += (signed char)c;
		}
		if (get_number(h + 148, 8, &chk) < 0 ||
		    (chk != sum_u && (int64_t)chk != sum_s)) {
			if (nhead == 0)
				cn_err_set(r->err, CN_EDATA, "%s: not a "
					   "tar archive", r->aname);
			else
				damaged(r, "bad tar header checksum");
			goto out;
		}
		nhead++;
		ustar = memcmp(h + 257, "ustar", 5) == 0;
		if (!ustar) {
			damaged(r, "not a ustar archive");
			goto out;
		}
		if (get_number(h + 124, 12, &size) < 0) {
			damaged(r, "bad member size");
			goto out;
		}
		type = (char)h[156];
		switch (type) {
		case 'x':	/* pax: applies to the next member */
			if (read_small(r, size, &ext) < 0 ||
			    pax_parse(r, &ext, &lname, &xsize,
				      &have_xsize) < 0)
				goto out;
			if (lname.len)
				have_lname = 1;
			continue;
		case 'L':	/* GNU long name */
			if (read_small(r, size, &lname) < 0)
				goto out;
			lname.len = strnlen(lname.ptr, lname.len);
			have_lname = 1;
			continue;
		case 'g':	/* pax global, GNU long link: not needed */
		case 'K':
			if (read_small(r, size, &ext) < 0)
				goto out;
			continue;
		default:
			break;
		}
		if (have_xsize)
			size = xsize;
		if (!have_lname) {
			char raw[256 + 2];
			size_t pl = 0, nl = strnlen((char *)h, 100);

			/* the prefix field is POSIX's, not old GNU's */
			if (memcmp(h + 257, "ustar\0", 6) == 0)
				pl = strnlen((char *)h + 345, 155);
			memcpy(raw, h + 345, pl);
			if (pl)
				raw[pl++] = '/';
			memcpy(raw + pl, h, nl);
			raw[pl + nl] = '\0';
			cn_buf_reset(&lname);
			if (cn_buf_adds(&lname, raw) < 0) {
				cn_err_set(r->err, CN_EINTERNAL,
					   "out of memory");
				goto out;
			}
		}
		if (memchr(lname.ptr, '\0', lname.len)) {
			damaged(r, "NUL byte in a member name");
			goto out;
		}
		if (norm_path(r, lname.ptr, &name) < 0)
			goto out;
		have_lname = have_xsize = 0;
		cn_buf_reset(&lname);
		if (type == '5') {	/* a directory: nothing to do */
			if (size) {
				damaged(r, "directory with data");
				goto out;
			}
			continue;
		}
		if (type != '0' && type != '\0' && type != '7') {
			cn_err_set(r->err, CN_EDATA, "%s: member '%.200s' is "
				   "not a regular file", r->aname, name.ptr);
			goto out;
		}
		if (name.len == 0) {
			damaged(r, "member without a name");
			goto out;
		}
		if (read_member(r, name.ptr, size) < 0)
			goto out;
	}
	/* the rest (a second zero block, padding) up to the gzip trailer,
	 * whose CRC covers everything */
	for (;;) {
		size_t got;

		if (gz_read(r, r->io, CHUNK, &got) < 0)
			goto out;
		if (got < CHUNK)
			break;
	}
	rc = 0;
out:
	cn_buf_free(&lname);
	cn_buf_free(&name);
	cn_buf_free(&ext);
	return rc;
}

static int
member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name,
		      ((const struct member *)b)->name);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Checks every member listed in SHA256SUMS against the digest computed
 * while reading it; the store copy must be listed.
 */
static int
check_sums(struct rst *r)
{
	const char *dir = r->sumsname, *slash = strrchr(dir, '/');
	size_t dlen = slash ? (size_t)(slash - dir) + 1 : 0;
	struct cn_buf path, file;
	char *p = r->sums.ptr, *end = r->sums.ptr + r->sums.len;
	int db_listed = 0, rc = -1;
	long line = 0;

	/* the store copy and SHA256SUMS sit in the same directory */
	if (strncmp(r->dbname, dir, dlen) != 0 ||
	    strchr(r->dbname + dlen, '/'))
		return cn_err_set(r->err, CN_EDATA, "%s: carnet.db and "
				  "SHA256SUMS are in different directories",
				  r->aname);
	qsort(r->mem, r->nmem, sizeof(*r->mem), member_cmp);
	cn_buf_init(&path, 0);
	cn_buf_init(&file, 0);
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *l = p, *le = nl ? nl : end;
		unsigned char want[32];
		struct member key, *m;
		int esc = 0;

		p = nl ? nl + 1 : end;
		line++;
		if (le > l && le[-1] == '\r')
			le--;
		if (le == l)
			continue;
		if (*l == '\\') {	/* sha256sum's escaped name form */
			esc = 1;
			l++;
		}
		if (le - l < 66 || l[64] != ' ' ||
		    (l[65] != ' ' && l[65] != '*'))
			goto bad;
		for (int i = 0; i < 32; i++) {
			int hi = hexval(l[2 * i]), lo = hexval(l[2 * i + 1]);

			if (hi < 0 || lo < 0)
				goto bad;
			want[i] = (unsigned char)(hi << 4 | lo);
		}
		cn_buf_reset(&file);
		for (char *c = l + 66; c < le; c++) {
			char ch = *c;

			if (esc && ch == '\\' && c + 1 < le) {
				c++;
				ch = *c == 'n' ? '\n' : *c;
			}
			if (cn_buf_addc(&file, ch) < 0)
				goto oom;
		}
		cn_buf_reset(&path);
		if (cn_buf_add(&path, dir, dlen) < 0 ||
		    cn_buf_add(&path, file.ptr, file.len) < 0)
			goto oom;
		if (norm_path(r, path.ptr, &file) < 0)
			goto out;
		key.name = file.ptr;
		m = bsearch(&key, r->mem, r->nmem, sizeof(*r->mem),
			    member_cmp);
		if (!m) {
			cn_err_set(r->err, CN_EDATA, "%s: '%.200s', listed in "
				   "SHA256SUMS, is missing", r->aname,
				   file.ptr);
			goto out;
		}
		if (memcmp(m->md, want, 32) != 0) {
			cn_err_set(r->err, CN_EDATA, "%s: '%.200s' does not "
				   "match its checksum in SHA256SUMS (the "
				   "archive is damaged)", r->aname, m->name);
			goto out;
		}
		if (m->name == r->dbname ||
		    strcmp(m->name, r->dbname) == 0)
			db_listed = 1;
	}
	if (!db_listed) {
		cn_err_set(r->err, CN_EDATA, "%s: carnet.db is not listed in "
			   "SHA256SUMS", r->aname);
		goto out;
	}
	rc = 0;
	goto out;
bad:
	cn_err_set(r->err, CN_EDATA, "%s: SHA256SUMS:%ld: not a sha256sum "
		   "line", r->aname, line);
	goto out;
oom:
	cn_err_set(r->err, CN_EINTERNAL, "out of memory");
out:
	cn_buf_free(&path);
	cn_buf_free(&file);
	return rc;
}

/* Integrity and schema version of the extracted copy. */
static int
check_copy(struct rst *r)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1, v = -1, step;

	if (sqlite3_open_v2(r->tmp, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		goto sqlfail;
	if (sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL))
		goto sqlfail;
	step = sqlite3_step(q);
	if (step != SQLITE_ROW)
		goto sqlfail;
	if (strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0) {
		cn_err_set(r->err, CN_EDATA, "%s: carnet.db fails SQLite's "
			   "integrity check: %.200s", r->aname,
			   (const char *)sqlite3_column_text(q, 0));
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) ||
	    sqlite3_step(q) != SQLITE_ROW)
		goto sqlfail;
	v = sqlite3_column_int(q, 0);
	if (v > CN_SCHEMA_VERSION) {
		cn_err_set(r->err, CN_ECONFIG, "%s: snapshot schema version %d "
			   "is newer than this carnet (%d); upgrade carnet",
			   r->aname, v, CN_SCHEMA_VERSION);
		goto out;
	}
	if (v < 1) {
		cn_err_set(r->err, CN_EDATA, "%s: carnet.db is not a carnet "
			   "store (schema version %d)", r->aname, v);
		goto out;
	}
	/* the new store is another machine for carnet-sync: it makes its own
	 * device id at its first sync (the items keep their sync state) */
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_exec(db, "PRAGMA query_only=0; DELETE FROM setting WHERE "
			 "key IN ('sync_device_id', 'sync_device_rev')", NULL,
			 NULL, NULL))
		goto sqlfail;
	rc = 0;
	goto out;
sqlfail:
	cn_err_set(r->err, CN_EDATA, "%s: carnet.db is not a usable SQLite "
		   "database: %s", r->aname,
		   db ? sqlite3_errmsg(db) : "out of memory");
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink_companions(r->tmp);
	return rc;
}

/*
 * The target must not exist, be an empty file, or be a store with no
 * folder, list, contact, template, campaign, message or blacklist row,
 * that no other process has open.
 */
static int
check_target(const char *path, struct cn_err *err)
{
	static const char sql[] =
		"SELECT EXISTS(SELECT 1 FROM folder) OR EXISTS(SELECT 1 FROM "
		"list) OR EXISTS(SELECT 1 FROM contact) OR EXISTS(SELECT 1 "
		"FROM template) OR EXISTS(SELECT 1 FROM campaign) OR "
		"EXISTS(SELECT 1 FROM message) OR EXISTS(SELECT 1 FROM "
		"blacklist)";
	struct cn_store *st;
	struct stat sb;
	sqlite3_stmt *q;
	char wal[PATH_MAX];
	int used = -1;

	if (stat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return cn_err_set(err, CN_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return cn_err_set(err, CN_ECANTCREAT, "%s: not a regular file",
				  path);
	if (sb.st_size == 0)
		return 0;
	st = cn_store_open(path, 0, err);
	if (!st)
		return -1;
	if (sqlite3_prepare_v2(cn_store_db(st), sql, -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			used = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	if (used < 0)
		cn_sql_fail(err, cn_store_db(st), path);
	cn_store_close(st);
	if (used < 0)
		return -1;
	if (used)
		return cn_err_set(err, CN_EDATA, "%s: the store is not empty; "
				  "a snapshot is restored into a new or empty "
				  "store only", path);
	/* our handle was the last one if the log is gone: a store someone
	 * has open must not be replaced under them */
	if (fmt_path(wal, sizeof(wal), "%s-wal", path) == 0 &&
	    stat(wal, &sb) == 0 && sb.st_size > 0)
		return cn_err_set(err, CN_ETEMP, "%s: the store is in use by "
				  "another process; try again later", path);
	return 0;
}

/* Creates the missing parent directories of path (0700); *made receives
 * how many, for undo_parents(). */
static int
make_parents(const char *path, char *dir, size_t cap, int *made,
	     struct cn_err *err)
{
	*made = 0;
	if (fmt_path(dir, cap, "%s", path) < 0)
		return cn_err_set(err, CN_ECANTCREAT, "%s: path too long",
				  path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == 0)
			(*made)++;
		else if (errno != EEXIST) {
			int e = errno;

			*p = '/';
			return cn_err_set(err, CN_ECANTCREAT, "%.300s: cannot "
					  "create directory: %s", dir,
					  strerror(e));
		}
		*p = '/';
	}
	return 0;
}

/* Removes the last made directories that make_parents() created. */
static void
undo_parents(char *dir, int made)
{
	while (made-- > 0) {
		char *slash = strrchr(dir, '/');

		/* dir holds the path; strip to each created parent */
		if (!slash)
			return;
		*slash = '\0';
		if (rmdir(dir) < 0)
			return;
	}
}

int
cn_snapshot_restore(const char *archive, const char *store_path,
		    struct cn_err *err)
{
	struct rst r;
	char dir[PATH_MAX];
	int made = 0, rc = -1, own = 0;

	memset(&r, 0, sizeof(r));
	r.err = err;
	r.tmpfd = -1;
	r.lockfd = -1;
	cn_buf_init(&r.sums, SUMS_MAX);
	if (!archive || !store_path || !*store_path) {
		cn_err_set(err, CN_EUSAGE, "snapshot restore: no archive or "
			   "no store path");
		goto out;
	}
	if (strcmp(archive, "-") == 0) {
		r.in = stdin;
		r.aname = "<stdin>";
	} else {
		r.aname = archive;
		r.in = fopen(archive, "rb");
		if (!r.in) {
			cn_err_set(err, CN_ENOINPUT, "%s: cannot open: %s",
				   archive, strerror(errno));
			goto out;
		}
		own = 1;
	}
	r.ibuf = malloc(CHUNK);
	r.io = malloc(CHUNK);
	r.md = EVP_MD_CTX_new();
	if (!r.ibuf || !r.io || !r.md) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	if (inflateInit2(&r.z, 15 + 32) != Z_OK) {
		cn_err_set(err, CN_EINTERNAL, "inflateInit failed");
		goto out;
	}
	r.zlive = 1;
	if (make_parents(store_path, dir, sizeof(dir), &made, err) < 0)
		goto out;
	if (fmt_path(r.tmp, sizeof(r.tmp), "%s.snapshot-XXXXXX",
		     store_path) < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: path too long",
			   store_path);
		goto out;
	}
	{
		/* what killed restores left beside the target goes */
		char *slash = strrchr(dir, '/');
		const char *base = slash ? slash + 1 : dir;
		char pre[NAME_MAX + 16];

		if (snprintf(pre, sizeof(pre), "%s.snapshot-", base) <
		    (int)sizeof(pre)) {
			if (slash)
				*slash = '\0';
			sweep_stale(slash ? (*dir ? dir : "/") : ".", pre, 6,
				    0);
			if (slash)
				*slash = '/';
		}
	}
	r.tmpfd = mkstemp(r.tmp);	/* mode 0600 */
	if (r.tmpfd < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: cannot create: %s", r.tmp,
			   strerror(errno));
		r.tmp[0] = '\0';
		goto out;
	}
	r.lockfd = open(r.tmp, O_RDONLY | O_CLOEXEC);
	if (r.lockfd >= 0)
		flock(r.lockfd, LOCK_EX);

	if (read_archive(&r) < 0)
		goto out;
	if (!r.dbname) {
		cn_err_set(err, CN_EDATA, "%s: no carnet.db in the archive "
			   "(not a carnet snapshot)", r.aname);
		goto out;
	}
	if (!r.sumsname) {
		cn_err_set(err, CN_EDATA, "%s: no SHA256SUMS in the archive",
			   r.aname);
		goto out;
	}
	if (check_sums(&r) < 0)
		goto out;
	if (fsync(r.tmpfd) < 0 || close(r.tmpfd) < 0) {
		r.tmpfd = -1;
		cn_err_set(err, CN_ECANTCREAT, "%s: cannot write: %s", r.tmp,
			   strerror(errno));
		goto out;
	}
	r.tmpfd = -1;
	if (check_copy(&r) < 0 || check_target(store_path, err) < 0)
		goto out;
	cn_crashpoint("restore.snapshot");
	if (rename(r.tmp, store_path) < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: cannot rename into place: "
			   "%s", store_path, strerror(errno));
		goto out;
	}
	r.tmp[0] = '\0';
	if (fsync_dir_of(store_path) < 0 || chmod(store_path, 0600) < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: %s", store_path,
			   strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (r.tmpfd >= 0)
		close(r.tmpfd);
	if (r.tmp[0]) {
		unlink(r.tmp);
		unlink_companions(r.tmp);
	}
	if (r.lockfd >= 0)
		close(r.lockfd);
	if (rc < 0 && made)
		undo_parents(dir, made);
	if (r.zlive)
		inflateEnd(&r.z);
	if (own)
		fclose(r.in);
	for (size_t i = 0; i < r.nmem; i++)
		free(r.mem[i].name);
	free(r.mem);
	EVP_MD_CTX_free(r.md);
	free(r.ibuf);
	free(r.io);
	cn_buf_free(&r.sums);
	return rc;
}
