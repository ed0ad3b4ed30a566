/*
 * fuzz-json.c - the JSON and NDJSON reader (lib/stream.c): one array of
 * objects or a stream of objects, nesting, numbers kept as written; the
 * format sniffed when the first byte's high bit is set.
 */
#include "reader.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_reader(data, size, CN_FMT_JSON);
}
