/*
 * gen.c - writes a realistic, deterministic contacts CSV for the benchmark.
 *
 *	gen ROWS [SEED] > contacts.csv
 *
 * The header is the French one a user's spreadsheet would have:
 *
 *	E-mail,Mobile,Prénom,Nom,Ville,Notes
 *
 * and carnet-contacts maps it with
 * --map 'E-mail=email,Mobile=phone,Prénom=first_name,Nom=last_name'
 * (Ville and Notes are left as free attributes).
 *
 * What the rows contain, so that both importers do real work:
 *  - E-mail: unique on every row whatever the case folding (the row number
 *    is the last digit run of the local part and names hold no digits);
 *    some domains in mixed case (Example.FR, GMAIL.COM), a few local parts
 *    capitalised;
 *  - Mobile: French mobiles (06/07), unique, in national format with varied
 *    separators ("06 12 34 56 78", "0612345678", "07.12.34.56.78"), some in
 *    international form ("+33 6 12 34 56 78", "+33612345678"), about 1% of
 *    rows without a mobile (a contact needs an email or a phone, not both);
 *  - Prénom, Nom: accented (é è ç ô ï ë œ), compound and particle names,
 *    some last names in capitals as French forms often have them;
 *  - Ville: accented names, some quoted because they hold a comma
 *    ("Saint-Denis, La Réunion");
 *  - Notes: mostly empty or short, some quoted with commas, doubled quotes
 *    or embedded newlines;
 *  - about 5% of the rows quote every field, as some spreadsheets do.
 * Lines end with LF; there is no byte order mark.
 *
 * The same ROWS and SEED always give the same bytes (a splitmix64 stream,
 * integer arithmetic only).  Output goes through one 1 MiB buffer; a
 * million rows (about 100 MB) take well under a second.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PHONE_SPACE UINT64_C(80000000)	/* distinct mobiles per run */

/* ---------------------------------------------------------------------
 * Data
 */

struct name {
	const char *text;	/* as written in the file */
	const char *upper;	/* in capitals (NULL: same as text) */
	const char *ascii;	/* for the email local part */
};

static const struct name first_names[] = {
	{"Marie", NULL, "marie"}, {"Jean", NULL, "jean"},
	{"Pierre", NULL, "pierre"}, {"Camille", NULL, "camille"},
	{"Lucas", NULL, "lucas"}, {"Emma", NULL, "emma"},
	{"Louis", NULL, "louis"}, {"Nathalie", NULL, "nathalie"},
	{"Thomas", NULL, "thomas"}, {"Julie", NULL, "julie"},
	{"Nicolas", NULL, "nicolas"}, {"Sophie", NULL, "sophie"},
	{"Élodie", NULL, "elodie"}, {"Hélène", NULL, "helene"},
	{"Jérôme", NULL, "jerome"}, {"François", NULL, "francois"},
	{"Françoise", NULL, "francoise"}, {"Anaïs", NULL, "anais"},
	{"Loïc", NULL, "loic"}, {"Joël", NULL, "joel"},
	{"Noël", NULL, "noel"}, {"Gaëlle", NULL, "gaelle"},
	{"Zoé", NULL, "zoe"}, {"Chloé", NULL, "chloe"},
	{"Léa", NULL, "lea"}, {"Théo", NULL, "theo"},
	{"Clément", NULL, "clement"}, {"Benoît", NULL, "benoit"},
	{"Jérémy", NULL, "jeremy"}, {"Céline", NULL, "celine"},
	{"Mélanie", NULL, "melanie"}, {"Stéphane", NULL, "stephane"},
	{"Frédéric", NULL, "frederic"}, {"Aurélie", NULL, "aurelie"},
	{"Cécile", NULL, "cecile"}, {"Sébastien", NULL, "sebastien"},
	{"Agnès", NULL, "agnes"}, {"Inès", NULL, "ines"},
	{"Maël", NULL, "mael"}, {"Maëlys", NULL, "maelys"},
	{"Raphaël", NULL, "raphael"}, {"Noémie", NULL, "noemie"},
	{"Valérie", NULL, "valerie"}, {"Régis", NULL, "regis"},
	{"André", NULL, "andre"}, {"René", NULL, "rene"},
	{"Jean-François", NULL, "jeanfrancois"},
	{"Marie-Hélène", NULL, "mariehelene"},
	{"Jean-Pierre", NULL, "jeanpierre"}, {"Marie-Ève", NULL, "marieeve"},
	{"Laëtitia", NULL, "laetitia"}, {"Héloïse", NULL, "heloise"},
	{"Ophélie", NULL, "ophelie"}, {"Josué", NULL, "josue"},
	{"Aïcha", NULL, "aicha"}, {"Moïse", NULL, "moise"},
	{"Yannick", NULL, "yannick"}, {"Manon", NULL, "manon"},
	{"Hugo", NULL, "hugo"}, {"Inaya", NULL, "inaya"},
	{"Mohamed", NULL, "mohamed"}, {"Fatou", NULL, "fatou"},
	{"Thi Hoa", NULL, "thihoa"}, {"Kévin", NULL, "kevin"},
};

static const struct name last_names[] = {
	{"Martin", "MARTIN", "martin"}, {"Bernard", "BERNARD", "bernard"},
	{"Dubois", "DUBOIS", "dubois"}, {"Thomas", "THOMAS", "thomas"},
	{"Robert", "ROBERT", "robert"}, {"Richard", "RICHARD", "richard"},
	{"Petit", "PETIT", "petit"}, {"Durand", "DURAND", "durand"},
	{"Leroy", "LEROY", "leroy"}, {"Moreau", "MOREAU", "moreau"},
	{"Simon", "SIMON", "simon"}, {"Laurent", "LAURENT", "laurent"},
	{"Lefèvre", "LEFÈVRE", "lefevre"}, {"Lefebvre", "LEFEBVRE", "lefebvre"},
	{"Michel", "MICHEL", "michel"}, {"Garçon", "GARÇON", "garcon"},
	{"François", "FRANÇOIS", "francois"}, {"Léger", "LÉGER", "leger"},
	{"Mercier", "MERCIER", "mercier"}, {"Bérard", "BÉRARD", "berard"},
	{"Gauthier", "GAUTHIER", "gauthier"}, {"Chevalier", "CHEVALIER",
	"chevalier"}, {"Rousseau", "ROUSSEAU", "rousseau"},
	{"Fournier", "FOURNIER", "fournier"}, {"Girard", "GIRARD", "girard"},
	{"Dupré", "DUPRÉ", "dupre"}, {"Lemaître", "LEMAÎTRE", "lemaitre"},
	{"Ménard", "MÉNARD", "menard"}, {"Hébert", "HÉBERT", "hebert"},
	{"Benoît", "BENOÎT", "benoit"}, {"Côté", "CÔTÉ", "cote"},
	{"Noël", "NOËL", "noel"}, {"Béranger", "BÉRANGER", "beranger"},
	{"Gérard", "GÉRARD", "gerard"}, {"Périer", "PÉRIER", "perier"},
	{"Sénéchal", "SÉNÉCHAL", "senechal"}, {"Crépin", "CRÉPIN", "crepin"},
	{"Lebœuf", "LEBŒUF", "leboeuf"}, {"Besançon", "BESANÇON", "besancon"},
	{"Le Goff", "LE GOFF", "legoff"}, {"Le Bihan", "LE BIHAN", "lebihan"},
	{"N'Diaye", "N'DIAYE", "ndiaye"}, {"Da Silva", "DA SILVA", "dasilva"},
	{"Dos Santos", "DOS SANTOS", "dossantos"},
	{"Nguyen", "NGUYEN", "nguyen"}, {"Ben Saïd", "BEN SAÏD", "bensaid"},
	{"Aït Ahmed", "AÏT AHMED", "aitahmed"},
	{"de La Fontaine", "DE LA FONTAINE", "delafontaine"},
	{"d'Alembert", "D'ALEMBERT", "dalembert"},
	{"Müller", "MÜLLER", "muller"}, {"Bonnet", "BONNET", "bonnet"},
	{"Faure", "FAURE", "faure"}, {"André", "ANDRÉ", "andre"},
	{"Guérin", "GUÉRIN", "guerin"}, {"Boyer", "BOYER", "boyer"},
	{"Clément", "CLÉMENT", "clement"}, {"Rivière", "RIVIÈRE", "riviere"},
};

/* Domains: the first is the usual spelling, the second one a user typed. */
static const char *const domains[][2] = {
	{"gmail.com", "Gmail.com"}, {"orange.fr", "Orange.fr"},
	{"wanadoo.fr", "WANADOO.FR"}, {"free.fr", "Free.Fr"},
	{"sfr.fr", "SFR.fr"}, {"laposte.net", "LaPoste.net"},
	{"hotmail.fr", "Hotmail.FR"}, {"yahoo.fr", "Yahoo.fr"},
	{"outlook.fr", "Outlook.fr"}, {"icloud.com", "iCloud.com"},
	{"example.fr", "Example.FR"}, {"bbox.fr", "BBox.fr"},
	{"gmail.com", "GMAIL.COM"}, {"orange.fr", "ORANGE.FR"},
	{"mairie-nantes.fr", "Mairie-Nantes.fr"},
	{"asso-les-amis.org", "Asso-Les-Amis.org"},
};

static const char *const cities[] = {
	"Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes",
	"Montpellier", "Strasbourg", "Bordeaux", "Lille", "Rennes", "Reims",
	"Saint-Étienne", "Le Havre", "Toulon", "Grenoble", "Dijon", "Angers",
	"Nîmes", "Villeurbanne", "Clermont-Ferrand", "Le Mans",
	"Aix-en-Provence", "Brest", "Tours", "Amiens", "Limoges", "Besançon",
	"Orléans", "Béziers", "Sète", "Angoulême", "Châteauroux", "Mâcon",
	"Vénissieux", "L'Haÿ-les-Roses", "Évry", "Créteil", "Nanterre",
	"Saint-Malo", "Quimper", "Vannes", "Ajaccio", "Bastia", "Pau",
	"Bayonne", "Périgueux", "Épinal", "Colmar", "Mulhouse",
};

/* Cities that need quotes in CSV. */
static const char *const cities_comma[] = {
	"Saint-Denis, La Réunion", "Saint-Pierre, La Réunion",
	"Le Tampon, La Réunion", "Fort-de-France, Martinique",
	"Pointe-à-Pitre, Guadeloupe", "Cayenne, Guyane",
	"Mamoudzou, Mayotte", "Paris, 15e", "Lyon, 7e",
	"Marseille, 13e arrondissement", "Saint-Denis, Seine-Saint-Denis",
	"Nouméa, Nouvelle-Calédonie",
};

static const char *const notes_plain[] = {
	"client fidèle", "préfère SMS", "à rappeler", "VIP",
	"nouveau contact salon 2025", "ancien adhérent", "relance faite",
	"ne pas appeler le matin", "carte cadeau offerte",
	"acompte 50 € versé", "inscrit à la newsletter", "parrainé par Zoé",
	"rendez-vous pris", "intérim BTP", "cours de piano le mercredi",
	"a changé de numéro", "bénévole", "cotisation à jour",
};

static const char *const notes_comma[] = {
	"rappeler lundi, après 14h",
	"intéressé par l'offre, pas encore signé",
	"déménagé, nouvelle adresse à confirmer",
	"allergique aux arachides, prévoir menu",
	"2 enfants, 1 chien",
	"disponible juillet, août",
};

static const char *const notes_quote[] = {
	"a dit \"plus tard\"", "surnom \"Jojo\"",
	"code promo \"ÉTÉ25\" utilisé", "voir fiche \"Dupont, J.\"",
	"\"ne plus relancer\" (demande écrite)",
};

static const char *const notes_lines[] = {
	"Rendez-vous le 12/03\nApporter le devis",
	"Adresse de livraison :\n12 rue de la Paix\n75002 Paris",
	"Appel du 3 mai :\n- veut un devis\n- rappeler vendredi",
	"Ligne fixe en panne\nutiliser le mobile",
	"Commande n° 4521\nlivrée, payée",
	"Merci pour tout 🙂\nÀ bientôt",
};

/* ---------------------------------------------------------------------
 * Random numbers: splitmix64, deterministic on every platform
 */

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z;

	z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* A number in [0, n), n < 2^32. */
static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

/* True with probability permille / 1000. */
static int
rng_chance(uint32_t permille)
{
	return rng_below(1000) < permille;
}

#define PICK(a) ((a)[rng_below((uint32_t)NELEM(a))])

/* ---------------------------------------------------------------------
 * Output: one buffer for stdout, small bounded buffers for fields
 */

#define OUT_SIZE (1u << 20)
#define FIELD_MAX 1024

static char out[OUT_SIZE];
static size_t out_len;

static void
out_flush(void)
{
	if (out_len > 0 && fwrite(out, 1, out_len, stdout) != out_len) {
		fprintf(stderr, "gen: write error: %s\n", strerror(errno));
		exit(1);
	}
	out_len = 0;
}

static void
out_putc(char c)
{
	out[out_len++] = c;
}

/* A field under construction; always shorter than FIELD_MAX. */
struct field {
	char d[FIELD_MAX];
	size_t n;
};

static void
field_reset(struct field *f)
{
	f->n = 0;
}

static void
field_add(struct field *f, const char *s)
{
	size_t len = strlen(s);

	if (len > FIELD_MAX - 1 - f->n)
		len = FIELD_MAX - 1 - f->n;
	memcpy(f->d + f->n, s, len);
	f->n += len;
}

static void
field_addc(struct field *f, char c)
{
	if (f->n < FIELD_MAX - 1)
		f->d[f->n++] = c;
}

/* Appends v in decimal, padded with zeros to at least width digits. */
static void
field_addu(struct field *f, uint64_t v, int width)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (i < width && i < (int)sizeof(tmp))
		tmp[i++] = '0';
	while (i > 0)
		field_addc(f, tmp[--i]);
}

/*
 * Writes f as a CSV field, quoted when it holds a comma, a quote or a
 * line break, or when force is set; quotes inside are doubled.
 */
static void
out_field(const struct field *f, int force)
{
	size_t i;
	int quote = force;

	for (i = 0; i < f->n && !quote; i++)
		if (f->d[i] == ',' || f->d[i] == '"' || f->d[i] == '\n' ||
		    f->d[i] == '\r')
			quote = 1;
	if (!quote) {
		memcpy(out + out_len, f->d, f->n);
		out_len += f->n;
		return;
	}
	out_putc('"');
	for (i = 0; i < f->n; i++) {
		if (f->d[i] == '"')
			out_putc('"');
		out_putc(f->d[i]);
	}
	out_putc('"');
}

/* ---------------------------------------------------------------------
 * Rows
 */

/*
 * The row's email.  The row number is the last digit run before '@' and
 * no name holds a digit, so two rows never share an address, even after
 * case folding.
 */
static void
make_email(struct field *f, uint64_t row, const struct name *fn,
	   const struct name *ln)
{
	uint32_t style = rng_below(6);
	const char *const *dom = PICK(domains);
	size_t start = f->n;

	switch (style) {
	case 0:
		field_add(f, fn->ascii);
		field_addc(f, '.');
		field_add(f, ln->ascii);
		break;
	case 1:
		field_addc(f, fn->ascii[0]);
		field_addc(f, '.');
		field_add(f, ln->ascii);
		break;
	case 2:
		field_add(f, fn->ascii);
		field_add(f, ln->ascii);
		break;
	case 3:
		field_add(f, ln->ascii);
		field_addc(f, '.');
		field_add(f, fn->ascii);
		break;
	case 4:
		field_add(f, fn->ascii);
		field_addc(f, '_');
		field_add(f, ln->ascii);
		break;
	default:
		field_add(f, ln->ascii);
		field_addc(f, '-');
		field_addc(f, fn->ascii[0]);
		break;
	}
	if (rng_chance(30) && f->d[start] >= 'a' && f->d[start] <= 'z')
		f->d[start] = (char)(f->d[start] - 'a' + 'A');
	if (rng_chance(300))
		field_addc(f, '.');
	field_addu(f, row + 1, 0);
	field_addc(f, '@');
	field_add(f, dom[rng_chance(60)]);
}

/* Appends the eight digits as four pairs, each preceded by sep (if any). */
static void
add_pairs(struct field *f, uint64_t sub, char sep)
{
	static const uint64_t div[4] = {1000000, 10000, 100, 1};
	int i;

	for (i = 0; i < 4; i++) {
		if (sep)
			field_addc(f, sep);
		field_addu(f, sub / div[i] % 100, 2);
	}
}

/*
 * A metropolitan French mobile, unique per row.  sub = (row * A + B) mod M
 * with M = 80 * 10^6 and A prime to M is a permutation of the rows; its
 * first two digits index the 80 pairs 09..38 and 40..89 (so never 0639 or
 * 069x, which are overseas mobiles), the other six are kept as they are.
 */
static void
make_phone(struct field *f, uint64_t row, uint64_t offset)
{
	static const uint64_t mult = UINT64_C(48271269);
	uint64_t sub = (row * mult + offset) % PHONE_SPACE;
	uint64_t pair = 9 + sub / 1000000;
	uint32_t lead = rng_chance(700) ? 6 : 7;
	uint32_t style = rng_below(1000);

	if (pair >= 39)
		pair++;
	sub = pair * 1000000 + sub % 1000000;
	if (style < 10)
		return;	/* no mobile (1%) */
	if (style < 70) {
		/* "+33 6 12 34 56 78" (6%) */
		field_add(f, "+33 ");
		field_addu(f, lead, 1);
		add_pairs(f, sub, ' ');
		return;
	}
	if (style < 100) {
		/* "+33612345678" (3%) */
		field_add(f, "+33");
		field_addu(f, lead, 1);
		add_pairs(f, sub, 0);
		return;
	}
	field_addc(f, '0');
	field_addu(f, lead, 1);
	if (style < 420)
		add_pairs(f, sub, 0);	/* "0612345678" (32%) */
	else if (style < 540)
		add_pairs(f, sub, '.');	/* "06.12.34.56.78" (12%) */
	else if (style < 570)
		add_pairs(f, sub, '-');	/* "06-12-34-56-78" (3%) */
	else
		add_pairs(f, sub, ' ');	/* "06 12 34 56 78" (43%) */
}

static void
make_city(struct field *f)
{
	uint32_t r = rng_below(1000);

	if (r < 30)
		return;
	if (r < 150)
		field_add(f, PICK(cities_comma));
	else
		field_add(f, PICK(cities));
}

static void
make_notes(struct field *f)
{
	uint32_t r = rng_below(1000);

	if (r < 600)
		return;
	if (r < 850) {
		field_add(f, PICK(notes_plain));
	} else if (r < 920) {
		field_add(f, PICK(notes_comma));
	} else if (r < 950) {
		field_add(f, PICK(notes_quote));
	} else if (r < 990) {
		field_add(f, PICK(notes_lines));
	} else {
		/* two notes on two lines */
		field_add(f, PICK(notes_plain));
		field_addc(f, '\n');
		field_add(f, PICK(notes_quote));
	}
}

static void
write_row(uint64_t row, uint64_t phone_offset)
{
	static struct field f;
	const struct name *fn = &PICK(first_names);
	const struct name *ln = &PICK(last_names);
	int all = rng_chance(50);

	field_reset(&f);
	make_email(&f, row, fn, ln);
	out_field(&f, all);
	out_putc(',');

	field_reset(&f);
	make_phone(&f, row, phone_offset);
	out_field(&f, all && f.n > 0);
	out_putc(',');

	field_reset(&f);
	field_add(&f, fn->text);
	out_field(&f, all);
	out_putc(',');

	field_reset(&f);
	field_add(&f, ln->upper && rng_chance(150) ? ln->upper : ln->text);
	out_field(&f, all);
	out_putc(',');

	field_reset(&f);
	make_city(&f);
	out_field(&f, all && f.n > 0);
	out_putc(',');

	field_reset(&f);
	make_notes(&f);
	out_field(&f, all && f.n > 0);
	out_putc('\n');
}

/* Parses a whole decimal argument into *v; returns 0, or -1 if invalid. */
static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t rows, seed = 1, row, phone_offset;

	if (argc < 2 || argc > 3 || parse_u64(argv[1], &rows) != 0 ||
	    (argc == 3 && parse_u64(argv[2], &seed) != 0)) {
		fprintf(stderr, "usage: gen ROWS [SEED] > contacts.csv\n");
		return 64;
	}
	if (rows > PHONE_SPACE) {
		fprintf(stderr, "gen: at most 80000000 rows (unique mobiles)\n");
		return 64;
	}
	rng_state = seed;
	phone_offset = rng_next() % PHONE_SPACE;

	memcpy(out, "E-mail,Mobile,Prénom,Nom,Ville,Notes\n",
	       sizeof("E-mail,Mobile,Prénom,Nom,Ville,Notes\n") - 1);
	out_len = sizeof("E-mail,Mobile,Prénom,Nom,Ville,Notes\n") - 1;
	for (row = 0; row < rows; row++) {
		/* a row is at most 6 quoted fields of FIELD_MAX doubled */
		if (out_len > OUT_SIZE - 6 * (2 * FIELD_MAX + 3))
			out_flush();
		write_row(row, phone_offset);
	}
	out_flush();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gen: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
