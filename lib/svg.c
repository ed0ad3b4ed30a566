/*
 * svg.c - the charts of carnet-stats: a standalone SVG document (stacked
 * bars of delivered, failed and pending messages per point, the reply rate
 * as a line on a secondary axis, axes, legend, title), and a compact text
 * chart for a terminal.  No library: the SVG is written by hand, every
 * label escaped.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "carnet.h"

/* Geometry of the SVG, in user units (pixels). */
#define LEFT 78		/* room for the primary axis and its title */
#define RIGHT 70	/* the secondary axis (reply rate) */
#define TOP 74		/* title and legend */
#define BOTTOM 96	/* rotated x labels and the axis title */
#define PLOT_H 320
#define LABEL_STEP 16	/* the least room between two x labels */

static const char *const colour_delivered = "#2e7d32";
static const char *const colour_failed = "#c62828";
static const char *const colour_pending = "#f9a825";
static const char *const colour_reply = "#1565c0";

/* Writes s with the five XML special characters escaped. */
static void
xml_text(FILE *fp, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&apos;", fp); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				fputc(' ', fp);
			else
				fputc(*s, fp);
		}
	}
}

/* A "nice" step (1, 2 or 5 times a power of ten) for about n ticks up
 * to max; max is at least 1. */
static int64_t
nice_step(int64_t max, int n)
{
	double raw = (double)max / n, p = 1;

	while (p * 10 <= raw)
		p *= 10;
	if (raw <= p)
		return (int64_t)p;
	if (raw <= 2 * p)
		return (int64_t)(2 * p);
	if (raw <= 5 * p)
		return (int64_t)(5 * p);
	return (int64_t)(10 * p);
}

/* Writes v with thin spaces between thousands ("12 500"). */
static void
num_text(FILE *fp, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	for (int i = 0; i < n; i++) {
		if (i && tmp[i - 1] != '-' && (n - i) % 3 == 0)
			fputs("\xe2\x80\x89", fp);	/* U+2009 */
		fputc(tmp[i], fp);
	}
}

int
cn_chart_svg(FILE *fp, const struct cn_chart *c, struct cn_err *err)
{
	size_t n = c->npoints;
	double plot_w, slot, bar_w, scale;
	int64_t max = 0, step, top;
	size_t every;
	int width, height, markers;
	static const double tops[] = {5, 10, 25, 50, 100};
	double max2 = 0, top2 = 100;

	for (size_t i = 0; i < n; i++) {
		const struct cn_chart_point *p = &c->points[i];
		int64_t t = p->delivered + p->failed + p->pending;

		if (t > max)
			max = t;
		if (p->reply_rate > max2)
			max2 = p->reply_rate;
	}
	/* the secondary axis: 0 to 100 %, or less when every rate is lower,
	 * so that a reply rate of 7 % is not a flat line at the bottom */
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		if (max2 <= tops[i]) {
			top2 = tops[i];
			break;
		}
	/* 24 px a bar up to 40 bars, then narrower, within 1,400 px */
	plot_w = n <= 40 ? 24.0 * (n ? (double)n : 1) : 960;
	if (n > 40 && n * 3 > 960)
		plot_w = n * 3 > 1400 ? 1400 : (double)n * 3;
	if (plot_w < 480)
		plot_w = 480;
	width = (int)plot_w + LEFT + RIGHT;
	height = PLOT_H + TOP + BOTTOM;
	slot = n ? plot_w / (double)n : plot_w;
	bar_w = slot * 0.72;
	if (bar_w > 48)
		bar_w = 48;
	if (bar_w < 0.6)
		bar_w = 0.6;
	step = nice_step(max > 0 ? max : 1, 5);
	top = (max / step + (max % step ? 1 : 0)) * step;
	if (top == 0)
		top = step;
	scale = PLOT_H / (double)top;
	/* show one label in every, so that labels are LABEL_STEP apart */
	every = (size_t)ceil(LABEL_STEP / slot);
	if (every < 1)
		every = 1;
	markers = slot >= 6;

	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\""
		" font-size=\"12\">\n", width, height, width, height);
	fputs("<title>", fp);
	xml_text(fp, c->title);
	fputs("</title>\n", fp);
	fprintf(fp, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		width, height);
	fprintf(fp, "<text class=\"title\" x=\"%d\" y=\"24\" text-anchor="
		"\"middle\" font-size=\"16\" font-weight=\"bold\">", width / 2);
	xml_text(fp, c->title);
	fputs("</text>\n", fp);

	/* legend */
	{
		static const char *const names[] = {"delivered", "failed",
						    "pending"};
		const char *colours[] = {colour_delivered, colour_failed,
					 colour_pending};
		int x = LEFT;

		fputs("<g class=\"legend\">\n", fp);
		for (int i = 0; i < 3; i++) {
			fprintf(fp, "<rect x=\"%d\" y=\"40\" width=\"12\" "
				"height=\"12\" fill=\"%s\"/><text x=\"%d\" "
				"y=\"50\">%s</text>\n", x, colours[i], x + 16,
				names[i]);
			x += 96;
		}
		fprintf(fp, "<line x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"46\" "
			"stroke=\"%s\" stroke-width=\"2\"/><text x=\"%d\" "
			"y=\"50\">reply rate (right axis)</text>\n</g>\n", x,
			x + 20, colour_reply, x + 26);
	}

	/* grid and primary axis */
	fputs("<g class=\"y-axis\" font-size=\"11\">\n", fp);
	for (int64_t v = 0; v <= top; v += step) {
		double y = TOP + PLOT_H - v * scale;

		fprintf(fp, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
			" stroke=\"#dddddd\"/><text x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">", LEFT, y, LEFT + plot_w, y,
			LEFT - 6, y + 4);
		num_text(fp, v);
		fputs("</text>\n", fp);
	}
	fprintf(fp, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 18 %d)\" font-size=\"12\">",
		TOP + PLOT_H / 2, TOP + PLOT_H / 2);
	xml_text(fp, c->ylabel);
	fputs("</text>\n</g>\n", fp);

	/* secondary axis: reply rate */
	fprintf(fp, "<g class=\"y2-axis\" font-size=\"11\" fill=\"%s\">\n",
		colour_reply);
	for (int i = 0; i <= 5; i++) {
		double v = top2 * i / 5;
		double y = TOP + PLOT_H - v * PLOT_H / top2;

		fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\">%g%%</text>\n",
			LEFT + plot_w + 6, y + 4, v);
	}
	fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(90 %.1f %d)\" font-size=\"12\">reply rate"
		"</text>\n</g>\n", LEFT + plot_w + 50, TOP + PLOT_H / 2,
		LEFT + plot_w + 50, TOP + PLOT_H / 2);

	/* bars */
	fputs("<g class=\"bars\">\n", fp);
	for (size_t i = 0; i < n; i++) {
		const struct cn_chart_point *p = &c->points[i];
		double x = LEFT + slot * (double)i + (slot - bar_w) / 2;
		double y = TOP + PLOT_H;
		const int64_t part[3] = {p->delivered, p->failed, p->pending};
		const char *cls[3] = {"delivered", "failed", "pending"};
		const char *col[3] = {colour_delivered, colour_failed,
				      colour_pending};

		fputs("<g class=\"bar\"><title>", fp);
		xml_text(fp, p->label ? p->label : "(none)");
		fprintf(fp, ": %" PRId64 " delivered, %" PRId64 " failed, "
			"%" PRId64 " pending", p->delivered, p->failed,
			p->pending);
		if (p->reply_rate >= 0)
			fprintf(fp, ", reply rate %.1f%%", p->reply_rate);
		fputs("</title>", fp);
		for (int k = 0; k < 3; k++) {
			double h = part[k] * scale;

			y -= h;
			fprintf(fp, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" "
				"width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
				cls[k], x, y, bar_w, h, col[k]);
		}
		fputs("</g>\n", fp);
	}
	fputs("</g>\n", fp);

	/* reply rate: a line through the points that have one */
	fprintf(fp, "<g class=\"reply-rate\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"%s\">\n", colour_reply, slot >= 6 ? "2" : "1");
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && c->points[j].reply_rate >= 0)
			j++;
		if (j > i) {
			fputs("<polyline points=\"", fp);
			for (size_t k = i; k < j; k++)
				fprintf(fp, "%s%.2f,%.2f", k > i ? " " : "",
					LEFT + slot * ((double)k + 0.5),
					TOP + PLOT_H -
						c->points[k].reply_rate *
							PLOT_H / top2);
			fputs("\"/>\n", fp);
			if (markers || j - i == 1)
				for (size_t k = i; k < j; k++)
					fprintf(fp, "<circle cx=\"%.2f\" "
						"cy=\"%.2f\" r=\"3\" fill=\"%s\""
						"/>\n",
						LEFT + slot * ((double)k + 0.5),
						TOP + PLOT_H -
							c->points[k].reply_rate *
								PLOT_H / top2,
						colour_reply);
		}
		i = j < n ? j + 1 : j;
	}
	fputs("</g>\n", fp);

	/* x axis, thinned labels */
	fprintf(fp, "<g class=\"x-axis\" font-size=\"11\">\n<line x1=\"%d\" "
		"y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333333\"/>\n"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333333\""
		"/>\n", LEFT, TOP + PLOT_H, LEFT + plot_w, TOP + PLOT_H, LEFT,
		TOP, LEFT, TOP + PLOT_H);
	for (size_t i = 0; i < n; i += every) {
		double x = LEFT + slot * ((double)i + 0.5);

		fprintf(fp, "<text class=\"xlabel\" x=\"%.2f\" y=\"%d\" "
			"text-anchor=\"end\" transform=\"rotate(-45 %.2f %d)\">",
			x, TOP + PLOT_H + 14, x, TOP + PLOT_H + 14);
		xml_text(fp, c->points[i].label ? c->points[i].label
						: "(none)");
		fputs("</text>\n", fp);
	}
	fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
		"font-size=\"12\">", LEFT + plot_w / 2, height - 8);
	xml_text(fp, c->xlabel);
	fputs("</text>\n</g>\n", fp);
	if (n == 0)
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
			"fill=\"#777777\">no messages in this period</text>\n",
			LEFT + plot_w / 2, TOP + PLOT_H / 2);
	fputs("</svg>\n", fp);
	if (fflush(fp) != 0 || ferror(fp))
		return cn_err_set(err, CN_ECANTCREAT, "cannot write the chart");
	return 0;
}

/* Writes n copies of the UTF-8 or ASCII mark. */
static void
marks(FILE *fp, int n, const char *mark)
{
	for (int i = 0; i < n; i++)
		fputs(mark, fp);
}

int
cn_chart_text(FILE *fp, const struct cn_chart *c, int width, int utf8,
	      struct cn_err *err)
{
	int64_t max = 0;
	int lw = 0;

	if (width < 10)
		width = 10;
	for (size_t i = 0; i < c->npoints; i++) {
		const struct cn_chart_point *p = &c->points[i];
		int64_t t = p->delivered + p->failed + p->pending;
		int l = p->label ? (int)strlen(p->label) : 6;

		if (t > max)
			max = t;
		if (l > lw)
			lw = l;
	}
	if (lw > 24)
		lw = 24;
	fprintf(fp, "%s\n", c->title);
	fprintf(fp, "%*s %s delivered  %s failed  %s pending   (%s)\n", lw,
		"", utf8 ? "\xe2\x96\x88" : "#", utf8 ? "\xe2\x96\x93" : "x",
		utf8 ? "\xe2\x96\x91" : ".", c->ylabel);
	for (size_t i = 0; i < c->npoints; i++) {
		const struct cn_chart_point *p = &c->points[i];
		int64_t t = p->delivered + p->failed + p->pending;
		int64_t known = p->delivered + p->failed;
		int d = 0, f = 0, q = 0;

		if (max > 0) {
			/* rounded cumulatively, so the parts add up */
			int a = (int)((double)p->delivered * width / max + 0.5);
			int b = (int)((double)(p->delivered + p->failed) *
					      width / max + 0.5);
			int e = (int)((double)t * width / max + 0.5);

			d = a;
			f = b - a;
			q = e - b;
			if (t > 0 && e == 0)
				q = 1;	/* something, however small */
		}
		fprintf(fp, "%-*.*s ", lw, lw, p->label ? p->label : "(none)");
		marks(fp, d, utf8 ? "\xe2\x96\x88" : "#");
		marks(fp, f, utf8 ? "\xe2\x96\x93" : "x");
		marks(fp, q, utf8 ? "\xe2\x96\x91" : ".");
		fprintf(fp, "%*s %" PRId64, width - d - f - q, "", t);
		if (known > 0)
			fprintf(fp, "  delivered %.1f%%",
				100.0 * (double)p->delivered / (double)known);
		if (p->reply_rate >= 0)
			fprintf(fp, "  replies %.1f%%", p->reply_rate);
		fputc('\n', fp);
	}
	if (c->npoints == 0)
		fputs("(no messages in this period)\n", fp);
	if (fflush(fp) != 0 || ferror(fp))
		return cn_err_set(err, CN_ECANTCREAT, "cannot write the chart");
	return 0;
}
