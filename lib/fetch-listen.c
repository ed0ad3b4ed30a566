/*
 * fetch-listen.c - the receiver of the gateway's callbacks (Kannel's
 * dlr-url and sms-service get-url), on libmicrohttpd.
 *
 * Each connection has its thread (keep-alive); one writer thread owns
 * the store.  A connection's thread queues its callback and waits; the
 * writer takes every callback queued, applies each in a savepoint of one
 * transaction, commits, then wakes their threads, which answer (group
 * commit: one commit for all the callbacks that arrived meanwhile).  No
 * callback is answered 200 before the commit that holds it, so a crash
 * after a 200 loses nothing.  The shared token travels in the parameter t and
 * is compared in constant time; a wrong one stores nothing.  Parameters
 * are kept URL-encoded by MHD (an identity unescaper) and decoded by
 * cn_fetch_kannel(), which knows that '+' is a space.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

/* A callback waiting for the writer. */
struct job {
	const char *q;
	size_t len;
	int done;
	enum cn_code code;	/* CN_OK, CN_EDATA (400), else 503 */
	struct job *next;
};

#define BATCH_MAX 512	/* callbacks in one transaction */

struct listener {
	struct cn_fetch *f;
	const struct cn_listen_opts *o;
	size_t token_len;
	size_t max_body;	/* o->max_body, or its default */
	double tokens;		/* the rate's bucket (under mu) */
	double last;
	struct MHD_Response *r_ok, *r_forbidden, *r_bad, *r_big, *r_rate,
		*r_busy;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* the writer: jobs queued, or quit */
	pthread_cond_t done;	/* the waiters: a batch was committed */
	struct job *head, **tail;
	int quit;
	volatile int ckpt_quit;	/* the checkpointer's stop */
};

/* A request: its parameters re-joined as a query string. */
struct req {
	struct cn_buf q;
	int too_big;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keeps parameters as they came (still URL-encoded). */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Compares the token given (URL-encoded) with the expected one in time
 * that depends only on the lengths, not on where they differ. */
static int
token_ok(const struct listener *l, const char *given)
{
	char dec[256];
	const unsigned char *a, *b;
	size_t n, m;
	unsigned diff;

	if (!l->o->token)
		return 1;
	if (!given || cn_url_decode(given, strlen(given), dec, sizeof(dec)) < 0)
		return 0;
	a = (const unsigned char *)dec;
	b = (const unsigned char *)l->o->token;
	n = strlen(dec);
	m = l->token_len;
	diff = (unsigned)(n ^ m);
	for (size_t i = 0; i < m; i++)
		diff |= (unsigned)(b[i] ^ a[i < n ? i : 0]);
	return diff == 0;
}

static enum MHD_Result
add_param(void *cls, enum MHD_ValueKind kind, const char *key,
	  const char *value)
{
	struct req *r = cls;

	(void)kind;
	if (strcmp(key, "t") == 0)
		return MHD_YES;	/* the token is not data */
	if ((r->q.len && cn_buf_addc(&r->q, '&') < 0) ||
	    cn_buf_adds(&r->q, key) < 0 ||
	    (value && (cn_buf_addc(&r->q, '=') < 0 ||
		       cn_buf_adds(&r->q, value) < 0))) {
		r->too_big = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/* The number of parameters in a query string (empty ones not counted,
 * as cn_fetch_kannel() does not count them). */
static size_t
count_params(const struct cn_buf *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->len; i++)
		if (q->ptr[i] != '&' && (i == 0 || q->ptr[i - 1] == '&'))
			n++;
	return n;
}

/* Appends "&name=" and value URL-encoded.  Returns 0 or -1. */
static int
add_encoded(struct cn_buf *b, const char *name, const char *v, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	if ((b->len && cn_buf_addc(b, '&') < 0) || cn_buf_adds(b, name) < 0 ||
	    cn_buf_addc(b, '=') < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];
		char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			if (cn_buf_addc(b, (char)ch) < 0)
				return -1;
		} else if (cn_buf_add(b, e, 3) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * Kannel's post-url: the text is the body, the numbers are in the
 * headers X-Kannel-From (the handset; needs send-sender) and
 * X-Kannel-To, the charset in Content-Type.  Appends them to r->q as
 * the parameters of a get-url would be.  Returns 0 or -1.
 */
static int
kannel_post(struct req *r, struct MHD_Connection *c, const char *from,
	    const char *ct, const struct cn_buf *body)
{
	const char *to = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "X-Kannel-To");
	const char *cs = ct ? strcasestr(ct, "charset=") : NULL;

	if (add_encoded(&r->q, "p", from, strlen(from)) < 0 ||
	    (to && add_encoded(&r->q, "P", to, strlen(to)) < 0) ||
	    add_encoded(&r->q, "text", body->ptr, body->len) < 0)
		return -1;
	if (cs) {
		size_t n;

		cs += 8;
		if (*cs == '"')
			cs++;
		n = strcspn(cs, "\"; ");
		if (n && add_encoded(&r->q, "C", cs, n) < 0)
			return -1;
	}
	return 0;
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned code, struct MHD_Response *resp)
{
	return MHD_queue_response(c, code, resp);
}

/* Under l->mu. */
static int
rate_ok(struct listener *l)
{
	double now;

	if (l->o->rate <= 0)
		return 1;
	now = mono();
	l->tokens += (now - l->last) * (double)l->o->rate;
	if (l->tokens > (double)l->o->rate)
		l->tokens = (double)l->o->rate;
	l->last = now;
	if (l->tokens < 1)
		return 0;
	l->tokens -= 1;
	return 1;
}

/* Adds up the bytes of a request's headers. */
static enum MHD_Result
sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
	   const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct req *r = *con_cls;
	const char *t;
	int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	(void)url;
	(void)version;
	if (!r) {
		size_t hbytes = 0;

		if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
			return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, l->r_bad);
		/* the memory that lets a query hold many parameters (see
		 * cn_listen) would let the headers grow as much: they are
		 * bounded as a query is */
		MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header,
					  &hbytes);
		if (hbytes > l->max_body)
			return answer(c,
				      MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
				      l->r_big);
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		cn_buf_init(&r->q, l->max_body);
		*con_cls = r;
		if (post)
			return MHD_YES;	/* the body comes next */
	}
	if (post && *upload_size) {
		/* a form body: its parameters join the query's */
		if (!r->too_big &&
		    cn_buf_add(&r->q, upload, *upload_size) < 0)
			r->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (post && r->q.len && !r->too_big) {
		/* the query's parameters, then the body's: a form's
		 * (URL-encoded already), or Kannel's post-url text with its
		 * X-Kannel headers */
		struct cn_buf body = r->q;
		const char *ct = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		const char *from = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, "X-Kannel-From");

		cn_buf_init(&r->q, l->max_body * 4 + 1024);
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_param,
					  r);
		if (from && (!ct || strncasecmp(ct, "application/x-www-form-"
						"urlencoded", 33) != 0)) {
			if (kannel_post(r, c, from, ct, &body) < 0)
				r->too_big = 1;
		} else if ((r->q.len && cn_buf_addc(&r->q, '&') < 0) ||
			   cn_buf_add(&r->q, body.ptr, body.len) < 0) {
			r->too_big = 1;
		}
		cn_buf_free(&body);
	} else {
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_param,
					  r);
	}
	if (r->too_big || count_params(&r->q) > CN_CALLBACK_MAX_PARAMS)
		return answer(c, MHD_HTTP_CONTENT_TOO_LARGE, l->r_big);
	t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "t");
	if (!token_ok(l, t))
		return answer(c, MHD_HTTP_FORBIDDEN, l->r_forbidden);
	{
		struct job j = {.q = r->q.ptr, .len = r->q.len};

		pthread_mutex_lock(&l->mu);
		if (!rate_ok(l)) {
			pthread_mutex_unlock(&l->mu);
			return answer(c, MHD_HTTP_TOO_MANY_REQUESTS, l->r_rate);
		}
		*l->tail = &j;
		l->tail = &j.next;
		pthread_cond_signal(&l->work);
		while (!j.done)
			pthread_cond_wait(&l->done, &l->mu);
		pthread_mutex_unlock(&l->mu);
		if (j.code == CN_EDATA)
			return answer(c, MHD_HTTP_BAD_REQUEST, l->r_bad);
		if (j.code != CN_OK)
			return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, l->r_busy);
	}
	return answer(c, MHD_HTTP_OK, l->r_ok);
}

/* Applies one batch in one transaction; each callback runs in a
 * savepoint of it (lib/fetch.c), so a bad one is undone alone. */
static void
apply_batch(struct listener *l, struct job *batch)
{
	struct cn_err err;
	struct job *j;

	if (cn_fetch_begin(l->f, &err) < 0) {
		for (j = batch; j; j = j->next)
			j->code = err.code == CN_EDATA ? CN_ETEMP : err.code;
		return;
	}
	for (j = batch; j; j = j->next) {
		j->code = cn_fetch_kannel(l->f, j->q, j->len, &err) < 0
				  ? err.code
				  : CN_OK;
		if (j->code == CN_EDATA)
			cn_fetch_note_refused(l->f, err.msg);
	}
	if (cn_fetch_commit(l->f, &err) < 0)
		for (j = batch; j; j = j->next)
			if (j->code == CN_OK)
				j->code = CN_ETEMP;
	cn_crashpoint("listen.stored");
}

/*
 * The checkpointer: the writer's connection does not checkpoint (a
 * checkpoint copies pages back and syncs them, which would stall the
 * callbacks of that batch); this thread, on a connection of its own,
 * runs passive checkpoints, which never block the writer, every 100 ms.
 */
static void *
checkpointer(void *arg)
{
	struct listener *l = arg;
	sqlite3 *db;

	if (sqlite3_open_v2(cn_store_path(cn_fetch_store(l->f)), &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	while (!l->ckpt_quit) {
		usleep(100 * 1000);
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

static void *
writer(void *arg)
{
	struct listener *l = arg;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct job *batch, *j, *last = NULL;
		int n = 0;

		while (!l->head && !l->quit)
			pthread_cond_wait(&l->work, &l->mu);
		if (!l->head)
			break;
		/* take up to BATCH_MAX jobs */
		batch = l->head;
		for (j = batch; j && n < BATCH_MAX; j = j->next, n++)
			last = j;
		l->head = last->next;
		if (!l->head)
			l->tail = &l->head;
		last->next = NULL;
		pthread_mutex_unlock(&l->mu);
		apply_batch(l, batch);
		pthread_mutex_lock(&l->mu);
		for (j = batch; j; j = j->next)
			j->done = 1;
		pthread_cond_broadcast(&l->done);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static void
done(void *cls, struct MHD_Connection *c, void **con_cls,
     enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)c;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		cn_crashpoint("listen.answered");
	if (r) {
		cn_buf_free(&r->q);
		free(r);
		*con_cls = NULL;
	}
}

/* Parses "host:port", "[v6]:port", "*:port" or "port" (loopback). */
static int
parse_address(const char *a, struct sockaddr_storage *ss, int *v6,
	      struct cn_err *err)
{
	char host[128];
	const char *colon, *port;
	char *end;
	long p;

	memset(ss, 0, sizeof(*ss));
	*v6 = 0;
	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (!close || close[1] != ':')
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - a - 1),
			 a + 1);
		port = close + 2;
		*v6 = 1;
	} else if ((colon = strrchr(a, ':'))) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - a), a);
		port = colon + 1;
	} else {
		snprintf(host, sizeof(host), "127.0.0.1");
		port = a;
	}
	p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		goto bad;
	if (*v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0 || !*host)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	return cn_err_set(err, CN_EUSAGE, "--listen: invalid address '%s' "
			  "(HOST:PORT, [IPv6]:PORT, *:PORT or PORT)", a);
}

static struct MHD_Response *
text(const char *s)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(s), (void *)s, MHD_RESPMEM_PERSISTENT);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain");
	return r;
}

/*
 * How many connections at once.  Each holds a thread and a descriptor
 * until its callback is committed, so while the store is busy (a send's
 * transaction, an import) Kannel opens one per report it has to give;
 * MHD closes any over the limit unanswered, and Kannel never sends that
 * report again (it was 256: tests/crash/c200-send-kannel lost 43 at a
 * kill).  1024, within the descriptors the process may open.
 */
static unsigned
conn_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 1024 + 64)
		return rl.rlim_cur > 256 + 64 ? (unsigned)(rl.rlim_cur - 64) : 256;
	return 1024;
}

int
cn_listen(struct cn_fetch *f, const struct cn_listen_opts *o,
	  volatile int *stop, struct cn_err *err)
{
	struct listener l;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	pthread_t wt, ct;
	int v6, rc = 0, have_ct = 0;

	memset(&l, 0, sizeof(l));
	pthread_mutex_init(&l.mu, NULL);
	pthread_cond_init(&l.work, NULL);
	pthread_cond_init(&l.done, NULL);
	l.tail = &l.head;
	l.f = f;
	l.o = o;
	l.token_len = o->token ? strlen(o->token) : 0;
	l.max_body = o->max_body > 0 ? (size_t)o->max_body : 8192;
	l.tokens = (double)o->rate;
	l.last = mono();
	if (parse_address(o->address ? o->address : "127.0.0.1:13080", &ss,
			  &v6, err) < 0)
		return -1;
	l.r_ok = text("ok\n");
	l.r_forbidden = text("forbidden\n");
	l.r_bad = text("bad request\n");
	l.r_big = text("too large\n");
	l.r_rate = text("too many requests\n");
	l.r_busy = text("busy, try again\n");
	if (!l.r_ok || !l.r_forbidden || !l.r_bad || !l.r_big || !l.r_rate ||
	    !l.r_busy) {
		rc = cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	if (pthread_create(&wt, NULL, writer, &l) != 0) {
		rc = cn_err_set(err, CN_EINTERNAL, "cannot start a thread");
		goto out;
	}
	if (pthread_create(&ct, NULL, checkpointer, &l) == 0) {
		have_ct = 1;
		sqlite3_wal_autocheckpoint(
			cn_store_db(cn_fetch_store(f)), 0);
	}
	d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_POLL | (v6 ? MHD_USE_IPv6 : 0), 0,
		NULL, NULL, handle, &l, MHD_OPTION_SOCK_ADDR, &ss,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
		/* libmicrohttpd keeps each parameter of a query in a record
		 * of this memory, and closes the connection without an
		 * answer when they do not fit: room for about 3,000 (a
		 * query twice max_body in parameters of a few bytes) so that
		 * such a request gets its 413 */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		l.max_body * 32 + 8192,
		MHD_OPTION_CONNECTION_LIMIT, conn_limit(),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
		MHD_OPTION_END);
	if (!d) {
		rc = cn_err_set(err, CN_EUNAVAIL, "--listen: cannot listen on "
				"%s: %s", o->address ? o->address : "",
				strerror(errno));
		goto stop_writer;
	}
	if (o->ready_file) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		FILE *fp = fopen(o->ready_file, "w");

		if (!fp || !di || fprintf(fp, "%u\n", di->port) < 0 ||
		    fclose(fp) != 0) {
			rc = cn_err_set(err, CN_ECANTCREAT, "%s: cannot write",
					o->ready_file);
			if (fp)
				fclose(fp);
			MHD_stop_daemon(d);
			goto stop_writer;
		}
	}
	while (!*stop)
		usleep(100 * 1000);
	/* the connections' threads end (their jobs answered) first */
	MHD_stop_daemon(d);
stop_writer:
	pthread_mutex_lock(&l.mu);
	l.quit = 1;
	pthread_cond_signal(&l.work);
	pthread_mutex_unlock(&l.mu);
	pthread_join(wt, NULL);
	if (have_ct) {
		l.ckpt_quit = 1;
		pthread_join(ct, NULL);
		sqlite3_wal_autocheckpoint(cn_store_db(cn_fetch_store(f)),
					   1000);
	}
out:
	pthread_mutex_destroy(&l.mu);
	pthread_cond_destroy(&l.work);
	pthread_cond_destroy(&l.done);
	MHD_destroy_response(l.r_ok);
	MHD_destroy_response(l.r_forbidden);
	MHD_destroy_response(l.r_bad);
	MHD_destroy_response(l.r_big);
	MHD_destroy_response(l.r_rate);
	MHD_destroy_response(l.r_busy);
	return rc;
}
