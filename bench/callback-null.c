/*
 * callback-null.c - the reference of the callback benchmark: a minimal
 * libmicrohttpd server, threaded like carnet-sms-fetch --listen (one
 * internal polling thread, keep-alive), that answers 200 "ok" to every
 * GET without looking at it or storing anything.
 *
 *   callback-null PORTFILE [threads]
 *
 * listens on 127.0.0.1, a free port written to PORTFILE; stops on SIGTERM
 * or SIGINT.  With "threads", a thread per connection (the threading of
 * carnet-sms-fetch --listen) instead of one polling thread.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static volatile sig_atomic_t stop;
static struct MHD_Response *ok;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	return MHD_queue_response(c, MHD_HTTP_OK, ok);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	FILE *fp;

	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;

	if (argc == 3 && strcmp(argv[2], "threads") == 0)
		flags = MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	else if (argc != 2) {
		fprintf(stderr, "usage: callback-null PORTFILE [threads]\n");
		return 64;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ok = MHD_create_response_from_buffer(3, (void *)"ok\n",
					     MHD_RESPMEM_PERSISTENT);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(flags, 0, NULL, NULL,
			     handle, NULL, MHD_OPTION_SOCK_ADDR, &sa,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
			     MHD_OPTION_END);
	if (!d) {
		perror("callback-null: MHD_start_daemon");
		return 69;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	fp = fopen(argv[1], "w");
	if (!fp || fprintf(fp, "%u\n", di->port) < 0 || fclose(fp) != 0) {
		perror(argv[1]);
		MHD_stop_daemon(d);
		return 73;
	}
	while (!stop)
		usleep(100 * 1000);
	MHD_stop_daemon(d);
	MHD_destroy_response(ok);
	return 0;
}
