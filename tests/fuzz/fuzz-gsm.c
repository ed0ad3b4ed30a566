/*
 * fuzz-gsm.c - the GSM 03.38 / UCS-2 encoder and segmenter (lib/gsm.c):
 * cn_sms_preview() with or without a sender, STOP mention and
 * transliteration, its counts checked against the text; cn_sms_split()
 * of the preview and of the raw input in both encodings; the sender
 * name check.
 *
 * The first byte picks the options; with bit 0 set, the rest is split at
 * its first 0xff byte into the text and the STOP mention.
 */
#include <string.h>

#include "sms.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_sms_opts o = {0};
	struct cn_sms_preview p;
	struct cn_err err;
	const char *text;
	char *mention = NULL, *sender = NULL;
	size_t len, n;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	text = (const char *)data + 1;
	len = size - 1;
	if (flags & 1) {
		const uint8_t *ff = memchr(data + 1, 0xff, size - 1);

		if (ff) {
			len = (size_t)(ff - data) - 1;
			mention = strndup((const char *)ff + 1,
					  size - (size_t)(ff - data) - 1);
		}
	}
	o.transliterate = !!(flags & 2);
	o.stop_newline = !!(flags & 4);
	o.stop_mention = mention ? mention : (flags & 8) ? "STOP au 36180"
							 : NULL;
	if (flags & 16)
		o.sender = (flags & 32) ? "ACME" : "+33612345678";

	if (cn_sms_preview(text, len, &o, &p, &err) == 0) {
		fuzz_check_preview(&p);
		if (!o.transliterate || !p.transliterated)
			fuzz_assert(p.text_len >= len &&
				    memcmp(p.text, text, len) == 0,
				    "the text changed without transliteration");
		if (!o.sender && !p.transliterated)
			fuzz_assert(p.text_len == len,
				    "a mention appended without a sender");
		cn_sms_preview_free(&p);
	} else {
		fuzz_assert(err.code == CN_EDATA, "preview failed with %d: %s",
			    err.code, err.msg);
	}

	for (int e = CN_SMS_GSM7; e <= CN_SMS_UCS2; e++) {
		size_t starts[8];

		if (cn_sms_split(text, len, (enum cn_sms_encoding)e, starts,
				 flags >> 5, &n, &err) == 0)
			fuzz_assert(n >= 1, "split in no part");
		else
			fuzz_assert(err.code == CN_EDATA, "split: code %d",
				    err.code);
	}

	/* the sender check, on the input as a C string */
	sender = strndup(text, len);
	if (sender && cn_sms_sender_check(sender, &err) == 0)
		fuzz_assert(strlen(sender) <= 16, "sender '%s' accepted",
			    sender);
	free(sender);
	free(mention);
	return 0;
}
