/* charset: see charset.h. */
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "utf8.h"

#include "util.h"

/*
 * About 450 of the most frequent hanzi of modern Chinese (after Jun Da's
 * character frequency list), then about 80 of shop names, payments and
 * places: 530 in GB2312 level 1 (others here are ignored).
 * Any byte pair in GB2312's level-1 range is a level-1 hanzi, so being in
 * level 1 says little; Japanese half-width katakana read as GB18030 comes
 * out as level-1 hanzi too, but rarely as common ones.
 */
static const char common_hanzi[] =
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后小么心"
    "多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将"
    "外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被"
    "走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员"
    "九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解"
    "各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流"
    "每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空"
    "甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早"
    "房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴注仍够尽整店餐饮咖啡茶酒饭"
    "菜面包超便利药超付款支宝微信银行卡号码账户扫描订购买卖价格优惠券会员积分有限责任公司集团股份科技网络服务中心"
    "广州深圳上海北京杭州南京成都武汉重庆天津苏州西安长沙郑州青岛厦门福建浙江江苏省市县镇村街道路号楼层室店铺分";

static bool hanzi_common[0x28][0x5e]; /* GB2312 level 1: lead 0xB0-0xD7, trail 0xA1-0xFE */

/* Converters to UTF-8 a thread has opened, kept for its next code: opening
 * three for every code was a twentieth of checking a payload line. */
#define CONVERTERS_MAX 8
struct converters {
	int n;
	struct {
		char charset[32];
		iconv_t cd;
	} open[CONVERTERS_MAX];
};

static pthread_key_t converters_key;

static void converters_close(void *arg)
{
	struct converters *c = arg;
	for (int i = 0; i < c->n; i++)
		iconv_close(c->open[i].cd);
	free(c);
}

static void converters_init(void)
{
	pthread_key_create(&converters_key, converters_close);
}

/* This thread's converter from charset, reset to its initial state;
 * *kept false: not kept, the caller closes it. */
static iconv_t converter(const char *charset, bool *kept)
{
	*kept = true;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, converters_init);
	struct converters *c = pthread_getspecific(converters_key);
	if (!c) {
		c = xcalloc(1, sizeof *c);
		pthread_setspecific(converters_key, c);
	}
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->open[i].charset, charset) == 0) {
			iconv(c->open[i].cd, NULL, NULL, NULL, NULL);
			return c->open[i].cd;
		}
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1 || c->n == CONVERTERS_MAX || strlen(charset) >= sizeof c->open[0].charset) {
		*kept = false;
		return cd;
	}
	strlcopy(c->open[c->n].charset, charset, sizeof c->open[c->n].charset);
	c->open[c->n].cd = cd;
	c->n++;
	return cd;
}

/* Convert from charset to UTF-8; NULL if the bytes are not valid in it (*bad_at then says where). */
static char *convert(const char *charset, const unsigned char *in, size_t len, size_t *bad_at, size_t *out_len)
{
	bool kept;
	iconv_t cd = converter(charset, &kept);
	if (cd == (iconv_t)-1)
		return NULL;
	size_t cap = len * 4 + 16, left = cap - 1;
	char *out = xmalloc(cap), *o = out, *i = (char *)in;
	size_t ileft = len;
	/* The second call ends a stateful charset's shift sequence. */
	bool ok = iconv(cd, &i, &ileft, &o, &left) != (size_t)-1 && ileft == 0 &&
	          iconv(cd, NULL, NULL, &o, &left) != (size_t)-1;
	if (!kept)
		iconv_close(cd);
	if (!ok) {
		if (bad_at)
			*bad_at = len - ileft;
		free(out);
		return NULL;
	}
	*o = '\0';
	if (out_len)
		*out_len = (size_t)(o - out);
	return out;
}

static void hanzi_build(void)
{
	char *gb = NULL;
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	if (cd != (iconv_t)-1) {
		size_t ileft = sizeof common_hanzi - 1, left = sizeof common_hanzi;
		char *i = (char *)common_hanzi, *o = gb = xmalloc(left);
		if (iconv(cd, &i, &ileft, &o, &left) != (size_t)-1)
			for (char *p = gb; p + 1 < o; p += 2) {
				unsigned l = (unsigned char)p[0], t = (unsigned char)p[1];
				if (l >= 0xB0 && l <= 0xD7 && t >= 0xA1 && t <= 0xFE)
					hanzi_common[l - 0xB0][t - 0xA1] = true;
			}
		iconv_close(cd);
	}
	free(gb);
}

/* Once, whichever thread asks first. */
static void hanzi_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, hanzi_build);
}

/*
 * Plausibility of bytes read as GB18030: a common hanzi scores 1, another
 * level-1 hanzi 0.5, GB2312 punctuation and full-width ASCII 0.7, level 2
 * and other GB2312 symbols 0.2, GBK's extension (traditional hanzi) 0.15, private use and
 * four-byte sequences 0. The mean over the non-ASCII characters.
 */
static double score_gb18030(const unsigned char *b, size_t len)
{
	hanzi_init();
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned l = b[i];
		if (l < 0x80)
			continue;
		n++;
		if (i + 1 >= len)
			break;
		unsigned t = b[i + 1];
		if (t >= 0x30 && t <= 0x39) {
			i += 3;
			continue;
		}
		i++;
		bool gb2312_trail = t >= 0xA1 && t <= 0xFE;
		if (l >= 0xB0 && l <= 0xD7 && gb2312_trail)
			sum += hanzi_common[l - 0xB0][t - 0xA1] ? 1.0 : 0.5;
		else if ((l == 0xA1 || l == 0xA3) && gb2312_trail)
			sum += 0.7;
		else if ((l >= 0xD8 && l <= 0xF7 && gb2312_trail) || (l >= 0xA2 && l <= 0xA9 && gb2312_trail))
			sum += 0.2;
		else if (!((l >= 0xAA && l <= 0xAF && gb2312_trail) || (l >= 0xF8 && gb2312_trail) ||
		           (l >= 0xA1 && l <= 0xA7 && t < 0xA1)))
			sum += 0.15;
	}
	return n ? sum / (double)n : 0;
}

/* Half-width katakana (Shift_JIS single bytes 0xA1-0xDF) that a mark may follow. */
static bool takes_dakuten(unsigned k)
{
	return k == 0xB3 || (k >= 0xB6 && k <= 0xC4) || (k >= 0xCA && k <= 0xCE);
}

static bool is_kana(unsigned k)
{
	return k >= 0xA6 && k <= 0xDF;
}

/* A half-width katakana's plausibility after the one before it (0 if none). */
static double halfwidth_score(unsigned k, unsigned prev)
{
	if (k == 0xDE) /* ﾞ */
		return takes_dakuten(prev) ? 1.0 : 0;
	if (k == 0xDF) /* ﾟ */
		return prev >= 0xCA && prev <= 0xCE ? 1.0 : 0;
	if (k >= 0xA7 && k <= 0xAB) /* ｧ-ｫ: after ｳ ｸ ｼ ﾁ ﾂ ﾃ ﾄ ﾌ or a voiced one */
		return strchr("\xB3\xB8\xBC\xC1\xC2\xC3\xC4\xCC\xDE", (int)prev) && prev ? 0.5 : 0;
	if (k >= 0xAC && k <= 0xAE) /* ｬ ｭ ｮ: after an i-row kana */
		return strchr("\xB7\xBC\xC1\xC3\xC6\xCB\xCC\xD0\xD8\xDE\xDF", (int)prev) && prev ? 0.5 : 0;
	if (k == 0xAF || k == 0xB0) /* ｯ ｰ: after a kana */
		return prev >= 0xA6 && prev <= 0xDF && prev != 0xAF ? 0.5 : 0;
	if (k == 0xDD) /* ﾝ begins no word */
		return is_kana(prev) ? 0.5 : 0.2;
	if (k <= 0xA6) /* ｡｢｣､･ｦ */
		return 0.3;
	return 0.5;
}

/*
 * Plausibility of bytes read as Shift_JIS (CP932): kana score 1, level-1
 * kanji 0.6, punctuation 0.6, level-2 kanji and full-width letters 0.3,
 * vendor extensions 0.1, user-defined 0. Half-width katakana 0.5, a voiced
 * mark on a kana that takes it 1 (with its kana), and a small kana or mark
 * where Japanese never puts one 0: GB2312 text read as Shift_JIS is
 * mostly half-width katakana, in such impossible places.
 */
static double score_shift_jis(const unsigned char *b, size_t len)
{
	double sum = 0, last = 0;
	size_t n = 0;
	unsigned prev = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned l = b[i];
		if (l < 0x80) {
			prev = 0;
			continue;
		}
		n++;
		if (l >= 0xA1 && l <= 0xDF) {
			double s = halfwidth_score(l, prev);
			if ((l == 0xDE || l == 0xDF) && s > 0)
				sum += 1.0 - last; /* the kana it voices is proven too */
			sum += s;
			last = s;
			prev = l;
			continue;
		}
		prev = 0;
		if (i + 1 >= len)
			break;
		unsigned t = b[++i];
		unsigned code = l << 8 | t;
		double s;
		if ((l == 0x82 && t >= 0x9F && t <= 0xF1) || (l == 0x83 && t >= 0x40 && t <= 0x96) || code == 0x815B)
			s = 1.0;
		else if (l == 0x81)
			s = 0.6;
		else if (code >= 0x889F && code <= 0x9872)
			s = 0.6;
		else if ((code >= 0x989F && code <= 0xEAA4) || l == 0x82)
			s = 0.3;
		else if (l >= 0xF0 && l <= 0xF9)
			s = 0;
		else
			s = l == 0x83 || l == 0x84 ? 0.2 : 0.1;
		sum += s;
		last = s;
	}
	return n ? sum / (double)n : 0;
}

static bool ascii_letter(unsigned c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool latin1_letter(unsigned c)
{
	return c >= 0xC0 && c != 0xD7 && c != 0xF7;
}

/* ISO-8859-1: an accented letter beside a letter 0.5, alone 0.25, a sign
 * 0.1. A C1 control makes it all 0: no text written in Latin-1 has one. */
static double score_latin1(const unsigned char *b, size_t len)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (b[i] < 0x80)
			continue;
		if (b[i] < 0xA0)
			return 0;
		n++;
		if (latin1_letter(b[i])) {
			unsigned before = i ? b[i - 1] : 0, after = i + 1 < len ? b[i + 1] : 0;
			bool beside = ascii_letter(before) || latin1_letter(before) || ascii_letter(after) ||
			              latin1_letter(after);
			sum += beside ? 0.5 : 0.25;
		} else if (b[i] >= 0xA0) {
			sum += 0.1;
		}
	}
	return n ? sum / (double)n : 0;
}

/* The script of a two-byte UTF-8 letter, for adjacency; 0 if none. */
static int script(unsigned cp)
{
	if ((cp | 0x20) - 'a' < 26)
		return 1; /* ASCII letters go with Latin */
	if (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7)
		return 1;
	if (cp >= 0x370 && cp <= 0x3FF)
		return 2;
	if (cp >= 0x400 && cp <= 0x4FF)
		return 3;
	if (cp >= 0x590 && cp <= 0x5FF)
		return 4;
	if (cp >= 0x600 && cp <= 0x6FF)
		return 5;
	return 0;
}

/*
 * Plausibility of valid UTF-8, for the one case where chance makes it:
 * GB2312 hanzi whose trail byte is 0xA1-0xBF are two-byte UTF-8 (U+0080
 * to U+07FF). A letter beside a letter of its script (Latin, Greek,
 * Cyrillic, Hebrew, Arabic) scores 1, a lone one or a sign 0.5, another
 * two-byte character 0.3, a C1 control 0; three and four bytes score 1
 * (chance rarely makes those). *two_byte_only: no longer sequence.
 */
static double score_utf8(const unsigned char *b, size_t len, bool *two_byte_only)
{
	unsigned prev = 0;
	double sum = 0;
	size_t n = 0;
	*two_byte_only = true;
	for (size_t i = 0; i < len;) {
		unsigned c = b[i], cp;
		size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (k == 1) {
			prev = c, i++;
			continue;
		}
		cp = c & (0xFF >> (k + 1));
		for (size_t j = 1; j < k; j++)
			cp = cp << 6 | (b[i + j] & 0x3F);
		i += k;
		n++;
		if (k > 2) {
			*two_byte_only = false;
			sum += 1.0;
		} else if (script(cp)) {
			/* The next character: ASCII, or the next two-byte one's. */
			unsigned next = i < len ? b[i] : 0;
			if (next >= 0xC0 && next < 0xE0 && i + 1 < len)
				next = (next & 0x1F) << 6 | (b[i + 1] & 0x3F);
			sum += script(prev) == script(cp) || script(next) == script(cp) ? 1.0 : 0.5;
		} else {
			sum += cp < 0xA0 ? 0 : cp < 0xC0 || cp == 0xD7 || cp == 0xF7 ? 0.5 : 0.3;
		}
		prev = cp;
	}
	return n ? sum / (double)n : 0;
}

const char *charset_confidence(double best, double next)
{
	/* The epsilon keeps 0.7 - 0.4 (0.29999...) on the side it reads as. */
	const double eps = 1e-9;
	if (best >= 0.7 - eps && best - next >= 0.3 - eps)
		return "high";
	if (best >= 0.4 - eps && best - next >= 0.1 - eps)
		return "medium";
	return "low";
}

/* The iconv name for one of ours: Shift_JIS as QR codes in the wild mean
 * it, CP932 (Windows-31J), where 0x5C is a backslash, not a yen sign. */
static const char *iconv_name(const char *name)
{
	if (strcasecmp(name, "shift_jis") == 0 || strcasecmp(name, "shift-jis") == 0 || strcasecmp(name, "sjis") == 0)
		return "CP932";
	return name;
}

bool charset_known(const char *name)
{
	/* "//IGNORE" or "//TRANSLIT" would drop or change bytes: never lose any. */
	if (!*name || strchr(name, '/') || strlen(name) > 40)
		return false;
	iconv_t cd = iconv_open("UTF-8", iconv_name(name));
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

static bool is_utf8_name(const char *name)
{
	return strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0;
}

static int forced_decode(const unsigned char *bytes, size_t len, const char *forced, struct charset_text *t)
{
	t->encoding = forced;
	t->certain = true;
	t->confidence = "high";
	size_t n = len;
	if (is_utf8_name(forced)) {
		/* Strictly: no overlongs, no surrogates, whatever iconv allows. */
		if (!utf8_valid((const char *)bytes, len, &t->bad_at))
			return -1;
		t->text = xmalloc(len + 1);
		memcpy(t->text, bytes, len);
		t->text[len] = '\0';
	} else if (!(t->text = convert(iconv_name(forced), bytes, len, &t->bad_at, &n))) {
		return -1;
	}
	/* A NUL would cut the text short: no charset makes it a code's text. */
	if (memchr(t->text, 0, n)) {
		t->nul = true;
		free(t->text);
		t->text = NULL;
		return -1;
	}
	return 0;
}

static void add(struct charset_text *t, const char *name, char *text, double score)
{
	/* Kept best first; a tie keeps the earlier (preferred) one first. */
	int i = t->n++;
	while (i > 0 && t->cand[i - 1].score < score) {
		t->cand[i] = t->cand[i - 1];
		i--;
	}
	t->cand[i] = (struct charset_candidate){.name = name, .score = score, .text = text};
}

int charset_decode(const unsigned char *bytes, size_t len, const char *forced, struct charset_text *t)
{
	*t = (struct charset_text){.confidence = "low"};
	if (forced)
		return forced_decode(bytes, len, forced, t);
	if (memchr(bytes, 0, len))
		return 0; /* binary: a NUL is no character of a code's text */
	bool utf8 = utf8_valid((const char *)bytes, len, NULL), two_byte_only = false;
	if (utf8) {
		char *text = xmalloc(len + 1);
		memcpy(text, bytes, len);
		text[len] = '\0';
		if (utf8_is_ascii(text)) {
			t->text = text;
			t->encoding = "ascii";
			t->certain = true;
			t->confidence = "high";
			return 0;
		}
		add(t, "utf-8", text, score_utf8(bytes, len, &two_byte_only));
	}
	static const struct {
		const char *name, *iconv;
		double (*score)(const unsigned char *, size_t);
	} legacy[] = {
	    {"gb18030", "GB18030", score_gb18030},
	    {"shift_jis", "CP932", score_shift_jis},
	    {"iso-8859-1", "ISO-8859-1", score_latin1},
	};
	for (size_t k = 0; k < ARRAY_LEN(legacy); k++) {
		char *text = convert(legacy[k].iconv, bytes, len, NULL, NULL);
		if (text)
			add(t, legacy[k].name, text, legacy[k].score(bytes, len));
	}
	/*
	 * Valid UTF-8 rarely happens by chance: it wins, unless it is only
	 * two-byte characters that make an implausible text (under 0.5) and
	 * GB18030 reads the bytes more plausibly: short GB2312 text can be
	 * valid UTF-8.
	 */
	int u = 0;
	while (utf8 && strcmp(t->cand[u].name, "utf-8") != 0)
		u++;
	bool gb_first =
	    utf8 && u > 0 && !strcmp(t->cand[0].name, "gb18030") && two_byte_only && t->cand[u].score < 0.5 - 1e-9;
	if (utf8 && !gb_first) {
		struct charset_candidate c = t->cand[u];
		memmove(&t->cand[1], &t->cand[0], (size_t)u * sizeof *t->cand);
		t->cand[0] = c;
		t->text = xstrdup(c.text);
		t->encoding = "utf-8";
		t->confidence =
		    c.score >= 0.7 - 1e-9 ? "high" : charset_confidence(c.score, t->n > 1 ? t->cand[1].score : 0);
		return 0;
	}
	if (!t->n)
		return 0;
	t->text = xstrdup(t->cand[0].text);
	t->encoding = t->cand[0].name;
	t->confidence = charset_confidence(t->cand[0].score, t->n > 1 ? t->cand[1].score : 0);
	return 0;
}

void charset_free(struct charset_text *t)
{
	free(t->text);
	for (int i = 0; i < t->n; i++)
		free(t->cand[i].text);
	*t = (struct charset_text){0};
}
