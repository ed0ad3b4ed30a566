/*
 * reader.h - the body of the CSV and JSON reader targets: reads every
 * record of an input, checks what cn_reader_next() promises, and writes
 * the records back out through a writer in one of the output formats.
 */
#ifndef FUZZ_READER_H
#define FUZZ_READER_H

#include <string.h>

#include "carnet.h"
#include "fuzz.h"

static FILE *fuzz_null;

static void
fuzz_check_record(const struct cn_record *r, enum cn_format fmt,
		  size_t nheader, long *line)
{
	fuzz_assert(r->line >= *line, "record line went back: %ld < %ld",
		    r->line, *line);
	*line = r->line;
	if (fmt == CN_FMT_CSV)
		fuzz_assert(r->nfields == nheader, "%zu fields, header %zu",
			    r->nfields, nheader);
	for (size_t i = 0; i < r->nfields; i++) {
		const struct cn_field *f = &r->fields[i];

		fuzz_assert(f->name, "field %zu has no name", i);
		fuzz_assert((f->value == NULL) == (f->type == CN_V_NULL),
			    "field '%s': NULL value <=> CN_V_NULL broken",
			    f->name);
		if (f->value) {
			fuzz_assert(f->value[f->len] == '\0',
				    "field '%s' not NUL-terminated", f->name);
			fuzz_assert(strlen(f->value) <= f->len,
				    "field '%s': len below strlen", f->name);
		}
		if (f->type == CN_V_BOOL)
			fuzz_assert(!strcmp(f->value, "true") ||
				    !strcmp(f->value, "false"),
				    "bool field '%s' is '%s'", f->name,
				    f->value);
		if (fmt == CN_FMT_CSV)
			fuzz_assert(f->type == CN_V_STR,
				    "CSV field '%s' is not a string", f->name);
	}
}

/* Whether err says that what was written is beyond RECORD_MAX (1024 bytes
 * in the fuzz build, see Makefile) because quoting made it longer than
 * what was read: a record or a header under the limit, its quotes
 * doubled.  Production's limit is 128 MiB. */
static int
too_large(const struct cn_err *err, size_t outlen)
{
	return outlen > 1024 && (strstr(err->msg, "record too large") ||
				 strstr(err->msg, "or a record over"));
}

/*
 * Records read, written (CSV as CSV, JSON as NDJSON) and read again are
 * the same: reads in (len bytes, format fmt, options o) with a reader A,
 * writes its records to memory, and compares each with what a reader B
 * reads from there.  Rows reader A refused (-2) are not written.  Called
 * only on an input that reads to its end without a fatal error.
 */
static void
fuzz_roundtrip(const char *in, size_t len, enum cn_format fmt,
	       const struct cn_csv_opts *o)
{
	enum cn_format wfmt = fmt == CN_FMT_CSV ? CN_FMT_CSV : CN_FMT_NDJSON;
	/* the writer's delimiter: sniffing a one-column file whose name
	 * holds a ';' would guess otherwise */
	const struct cn_csv_opts comma = {.delimiter = ','};
	struct cn_reader *a, *b = NULL;
	struct cn_writer *w = NULL;
	struct cn_record *ra, *rb;
	struct cn_err err;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fa, *fo, *fb;
	int rc, n = 0;

	if (!(fa = fmemopen((void *)in, len, "r")))
		return;
	if (!(a = cn_reader_open(fa, "a", fmt, o, &err)))
		fuzz_fail("round trip: reopen failed: %s", err.msg);
	if (!(fo = open_memstream(&out, &outlen)))
		fuzz_fail("open_memstream");
	while ((rc = cn_reader_next(a, &ra, &err)) != 0) {
		if (rc == -2)
			continue;
		fuzz_assert(rc == 1, "round trip: second read failed: %s",
			    err.msg);
		if (!w && !(w = cn_writer_open(fo, wfmt, NULL, 0, NULL, &err)))
			fuzz_fail("round trip: writer: %s", err.msg);
		if (cn_writer_put(w, ra, &err) < 0)
			fuzz_fail("round trip: put: %s", err.msg);
	}
	if (w && cn_writer_close(w, &err) < 0)
		fuzz_fail("round trip: close: %s", err.msg);
	fclose(fo);
	cn_reader_close(a);
	fclose(fa);
	if (!outlen) {
		free(out);
		return;	/* a header and no row: nothing written */
	}

	/* read both again, side by side */
	fa = fmemopen((void *)in, len, "r");
	fb = fmemopen(out, outlen, "r");
	if (!fa || !fb)
		fuzz_fail("fmemopen");
	a = cn_reader_open(fa, "a", fmt, o, &err);
	b = cn_reader_open(fb, "b", fmt, &comma, &err);
	if (a && !b && too_large(&err, outlen)) {
		/* the header alone, its quotes doubled */
		cn_reader_close(a);
		fclose(fa);
		fclose(fb);
		free(out);
		return;
	}
	fuzz_assert(a && b, "round trip: the output cannot be read: %s\n"
		    "---\n%.*s---", err.msg, (int)outlen, out);
	for (;;) {
		do
			rc = cn_reader_next(a, &ra, &err);
		while (rc == -2);
		if (rc == 0)
			break;
		n++;
		rc = cn_reader_next(b, &rb, &err);
		if (rc == -1 && too_large(&err, outlen))
			break;
		fuzz_assert(rc == 1, "round trip: record %d not read back "
			    "(%d: %s)\n---\n%.*s---", n, rc, err.msg,
			    (int)outlen, out);
		fuzz_assert(ra->nfields == rb->nfields, "round trip: record "
			    "%d has %zu fields, read back %zu", n,
			    ra->nfields, rb->nfields);
		for (size_t i = 0; i < ra->nfields; i++) {
			const struct cn_field *x = &ra->fields[i];
			const struct cn_field *y = &rb->fields[i];

			fuzz_assert(!strcmp(x->name, y->name) &&
				    x->type == y->type && x->len == y->len &&
				    (!x->len || !memcmp(x->value, y->value,
							x->len)),
				    "round trip: record %d field %zu: '%s'='%s' "
				    "read back as '%s'='%s'\n---\n%.*s---", n, i,
				    x->name, x->value, y->name, y->value,
				    (int)outlen, out);
		}
	}
	if (rc == 0) {
		rc = cn_reader_next(b, &rb, &err);
		fuzz_assert(rc == 0, "round trip: more records read back (%d)",
			    rc);
	}
	cn_reader_close(a);
	cn_reader_close(b);
	fclose(fa);
	fclose(fb);
	free(out);
}

/*
 * Reads data as fmt with the options of the first byte: bits 0-2 the CSV
 * delimiter (auto , ; tab |), bits 3-4 the quote (" ' ` "), bits 5-6 the
 * output format.
 */
static int
fuzz_reader(const uint8_t *data, size_t size, enum cn_format fmt)
{
	static const char delims[] = {0, ',', ';', '\t', '|', 0, ',', ';'};
	static const char quotes[] = {0, '\'', '`', '"'};
	static const enum cn_format outs[] = {CN_FMT_CSV, CN_FMT_JSON,
					      CN_FMT_NDJSON, CN_FMT_TABLE};
	struct cn_csv_opts o = {0};
	struct cn_reader *rd;
	struct cn_writer *w = NULL;
	struct cn_record *rec;
	struct cn_err err;
	size_t nheader = 0;
	long line = 0;
	FILE *fp;
	int rc, errors = 0;

	if (size < 1)
		return 0;
	if (!fuzz_null && !(fuzz_null = fopen("/dev/null", "w")))
		fuzz_fail("cannot open /dev/null");
	o.delimiter = delims[data[0] & 7];
	o.quote = quotes[(data[0] >> 3) & 3];
	fmt = fmt == CN_FMT_JSON && (data[0] & 0x80) ? CN_FMT_AUTO : fmt;
	if (size == 1)
		return 0;
	if (!(fp = fmemopen((void *)(data + 1), size - 1, "r")))
		return 0;
	rd = cn_reader_open(fp, "fuzz", fmt, &o, &err);
	if (!rd) {
		fuzz_assert(err.code == CN_EDATA || err.code == CN_ENOINPUT ||
			    err.code == CN_EUSAGE,
			    "open failed with code %d: %s", err.code, err.msg);
		fclose(fp);
		return 0;
	}
	if (cn_reader_format(rd) == CN_FMT_CSV) {
		const char *const *h = cn_reader_header(rd, &nheader);

		fuzz_assert(h && nheader > 0, "a CSV reader without header");
		for (size_t i = 0; i < nheader; i++)
			fuzz_assert(h[i], "header name %zu is NULL", i);
	}
	while ((rc = cn_reader_next(rd, &rec, &err)) != 0) {
		size_t rawlen;

		if (rc == -1) {
			fuzz_assert(err.code == CN_EDATA ||
				    err.code == CN_EINTERNAL,
				    "next failed with code %d: %s", err.code,
				    err.msg);
			break;
		}
		fuzz_assert(cn_reader_raw(rd, &rawlen) != NULL, "no raw text");
		if (rc == -2) {
			fuzz_assert(err.code == CN_EDATA, "-2 with code %d",
				    err.code);
			if (++errors > 10000)
				break;
			continue;
		}
		fuzz_assert(rc == 1, "next returned %d", rc);
		fuzz_check_record(rec, cn_reader_format(rd), nheader, &line);
		if (!w)
			w = cn_writer_open(fuzz_null, outs[(data[0] >> 5) & 3],
					   NULL, 0, NULL, &err);
		if (w && cn_writer_put(w, rec, &err) < 0)
			fuzz_fail("writer: %s", err.msg);
	}
	if (w && cn_writer_close(w, &err) < 0)
		fuzz_fail("writer close: %s", err.msg);
	if (rc == 0) {
		if (cn_reader_format(rd) == CN_FMT_CSV)
			o.delimiter = cn_reader_delimiter(rd);
		fuzz_roundtrip((const char *)data + 1, size - 1,
			       cn_reader_format(rd), &o);
	}
	cn_reader_close(rd);
	fclose(fp);
	return 0;
}

#endif
