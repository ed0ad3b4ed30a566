/*
 * callback-load.c - the load generator of the callback benchmark: N GET
 * requests over C concurrent keep-alive connections (libcurl multi, one
 * easy handle per connection, each re-used for its next request), the
 * URL of request i being BASE followed by the i-th line of REFS (cycled)
 * or by "bench-i".  Prints one line:
 *
 *   requests N ok K seconds S rate R p50_ms A p99_ms B max_ms M
 *
 * where ok counts 200 answers, rate is requests a second, and the
 * latencies are each request's total time as libcurl measures it.
 *
 *   callback-load BASE N C [REFS]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static int
cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char *base;
	long n, conc, next = 0, done = 0, ok = 0;
	char **refs = NULL, **urls;
	size_t nrefs = 0, cap = 0;
	long *lat;
	CURL **h;
	CURLM *m;
	double t0, t1;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: callback-load BASE N C [REFS]\n");
		return 64;
	}
	base = argv[1];
	n = strtol(argv[2], NULL, 10);
	conc = strtol(argv[3], NULL, 10);
	if (n <= 0 || conc <= 0) {
		fprintf(stderr, "callback-load: N and C must be positive\n");
		return 64;
	}
	if (argc == 5) {
		FILE *fp = fopen(argv[4], "r");
		char *line = NULL;
		size_t lc = 0;
		ssize_t l;

		if (!fp) {
			perror(argv[4]);
			return 66;
		}
		while ((l = getline(&line, &lc, fp)) > 0) {
			if (line[l - 1] == '\n')
				line[--l] = '\0';
			if (nrefs == cap) {
				cap = cap ? cap * 2 : 1024;
				refs = realloc(refs, cap * sizeof(*refs));
			}
			refs[nrefs++] = strdup(line);
		}
		free(line);
		fclose(fp);
	}
	/* every URL made before the clock starts */
	urls = calloc((size_t)n, sizeof(*urls));
	lat = calloc((size_t)n, sizeof(*lat));
	h = calloc((size_t)conc, sizeof(*h));
	for (long i = 0; i < n; i++) {
		char id[32];
		const char *ref = id;

		if (nrefs)
			ref = refs[(size_t)i % nrefs];
		else
			snprintf(id, sizeof(id), "bench-%ld", i);
		if (asprintf(&urls[i], "%s%s", base, ref) < 0)
			return 70;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
	t0 = now();
	for (long i = 0; i < conc && next < n; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h[i], CURLOPT_URL, urls[next]);
		curl_easy_setopt(h[i], CURLOPT_PRIVATE, (void *)(intptr_t)next);
		next++;
		curl_multi_add_handle(m, h[i]);
	}
	while (done < n) {
		int running, q;
		CURLMsg *msg;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &q))) {
			CURL *e = msg->easy_handle;
			long code = 0;
			curl_off_t us = 0;
			void *priv;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
			curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
			lat[(intptr_t)priv] = (long)us;
			if (msg->data.result == CURLE_OK && code == 200)
				ok++;
			done++;
			curl_multi_remove_handle(m, e);
			if (next < n) {
				curl_easy_setopt(e, CURLOPT_URL, urls[next]);
				curl_easy_setopt(e, CURLOPT_PRIVATE,
						 (void *)(intptr_t)next);
				next++;
				curl_multi_add_handle(m, e);
			}
		}
		if (done < n)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	t1 = now();
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("requests %ld ok %ld seconds %.3f rate %.0f p50_ms %.3f "
	       "p99_ms %.3f max_ms %.3f\n", n, ok, t1 - t0,
	       (double)n / (t1 - t0), lat[n / 2] / 1000.0,
	       lat[(size_t)((double)n * 0.99)] / 1000.0, lat[n - 1] / 1000.0);
	for (long i = 0; i < conc; i++)
		if (h[i])
			curl_easy_cleanup(h[i]);
	curl_multi_cleanup(m);
	for (long i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(lat);
	free(h);
	for (size_t i = 0; i < nrefs; i++)
		free(refs[i]);
	free(refs);
	return ok == n ? 0 : 1;
}
