/*
 * sendcli.h - what carnet-sms-send and carnet-campaign share: preparing a
 * campaign from records, asking for confirmation, sending through the
 * configured driver, printing one record per message and a summary.
 */
#ifndef CARNET_SENDCLI_H
#define CARNET_SENDCLI_H

#include "cli.h"

struct sendcli {
	struct cn_send_spec spec;	/* filled by the tool */
	struct cn_send_opts so;
	int preview;		/* render, check, print; record nothing */
	enum cn_format infmt;
	char delimiter;
	const char *driver;	/* NULL: sms.driver (or simulate) */
};

void sendcli_init(struct sendcli *s);
/* Parses --rate: "10", "10/s", "2.5/s", "600/m".  Returns 0 or -1. */
int sendcli_rate(const char *arg, double *out);
/* Catches SIGINT and SIGTERM: the send stops after the requests in
 * flight (cn_send_opts.stop). */
void sendcli_signals(struct sendcli *s);
/*
 * Prepares a campaign from the records in fp (a seekable file; name for
 * messages) and, unless it is a preview or saved, sends it.  Asks on the
 * terminal above the warning threshold.  Returns the exit status.
 */
int sendcli_run(struct cli *c, struct sendcli *s, FILE *fp, const char *name);
/* Parses a whole number in [lo, hi] for --opt; on a bad one prints a
 * usage error, marks the program to stop and returns -1. */
int sendcli_int(struct cli *c, const char *opt, const char *arg, long lo,
		long hi, long *out);
/* Adds a string (NULL or "" as null) or a number to an output record. */
void sendcli_add_str(struct cn_record *r, const char *name, const char *v);
void sendcli_add_int(struct cn_record *r, const char *name, long long v);
/* Sends (or resumes) campaign id.  Returns the exit status. */
int sendcli_send(struct cli *c, struct sendcli *s, int64_t id);

#endif
