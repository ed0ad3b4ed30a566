/*
 * fuzz-csv.c - the CSV reader (lib/stream.c): header, delimiter sniffing,
 * quotes, CRLF, BOM, short and long rows; the records written back out.
 */
#include "reader.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_reader(data, size, CN_FMT_CSV);
}
