/*
 * test_respcache.c - the server's history answers kept ready
 * (server/respcache.c): the cache (hits, a new generation, the TTL on an
 * injected clock, least-recently-used eviction, the byte cap, reference
 * counts), gzip bodies, ETags, and the two request headers that choose what
 * is sent (Accept-Encoding, If-None-Match).
 *
 * Ground truth: zlib's inflate for the gzip bodies, CRC-32 values computed
 * independently (Python's zlib.crc32) for the ETags, and the reference
 * counts themselves; a body freed too early or never is caught by the
 * ASan/LSan build of the suite.
 */
#include "testutil.h"

#include "http.h"

#include <pthread.h>
#include <zlib.h>

/* A body holding a copy of text. */
static srv_body *body_of(const char *text)
{
    size_t n = strlen(text);
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, text, n + 1);
    srv_body *b = srv_body_adopt(p, n);
    assert_non_null(b);
    return b;
}

static unsigned refs(srv_body *b)
{
    return atomic_load(&b->refs);
}

static bool get(rsc_cache *c, const char *key, int64_t gen, int64_t now, rsc_hit *h)
{
    return rsc_get(c, key, strlen(key), gen, now, h);
}

static void put(rsc_cache *c, const char *key, int64_t gen, int64_t now, srv_body *b)
{
    rsc_put(c, key, strlen(key), gen, now, b, "\"etag\"");
}

/* ---- request headers ------------------------------------------------------------ */

static void test_accept_encoding(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        bool gzip;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"gzip", true},
        {"GZip", true},
        {"x-gzip", true},
        {" gzip , deflate ", true},
        {"gzip;q=0", false},
        {"gzip; q=0.000", false},
        {"gzip;q=0.001", true},
        {"gzip;Q=1", true},
        {"gzip;q=1.000", true},
        {"gzip;q=1.", true},
        {"*", true},
        {"*;q=0", false},
        {"*;q=0, gzip", true},       /* gzip named: its own weight */
        {"gzip;q=0, *", false},
        {"deflate, gzip;q=0.5", true},
        {"gzip;q=0.5, identity", false}, /* identity preferred */
        {"gzip;q=0.5, identity;q=0.5", true},
        {"identity;q=0, gzip;q=0.1", true},
        {"deflate", false},
        {"br, deflate", false},
        {"identity", false},
        {"gzip;q=0, gzip", false},   /* the first weight counts */
        {",gzip,", true},            /* empty elements are allowed */
        {"deflate;q=0.9,,gzip;q=0.8", true},
        /* garbage: the element is ignored */
        {"gzip;q=abc", false},
        {"gzip;q=", false},
        {"gzip;q=1.5", false},
        {"gzip;q=1.001", false},
        {"gzip;q=0.0001", false},
        {"gzip;q=00.5", false},
        {"gzip;q=0.5x", false},
        {"gzip;level=9", false},
        {"gzip q=1", false},
        {"gzip;", false},
        {"\"gzip\"", false},
        {"gzipx", false},
        {"gz\x01ip", false},
        {"g\xc3\xbczip", false},
        {";;;,,,", false},
        {"gzip;q=abc, deflate", false},
        {"gzip;q=abc, *", true},     /* the broken gzip element is ignored, "*" applies */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (srv_accepts_gzip(cases[i].header) != cases[i].gzip)
            fail_msg("Accept-Encoding '%s': wanted %s", cases[i].header ? cases[i].header : "(none)",
                     cases[i].gzip ? "gzip" : "identity");
}

static void test_if_none_match(void **state)
{
    (void)state;
    const char *tag = "\"4-0862575d-a3a6bf43\"";
    static const struct {
        const char *header;
        bool match;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"*", true},
        {" * ", true},
        {"\"4-0862575d-a3a6bf43\"", true},
        {"W/\"4-0862575d-a3a6bf43\"", true}, /* weak comparison */
        {"\"x\", \"4-0862575d-a3a6bf43\"", true},
        {"\"x\",\"4-0862575d-a3a6bf43\"", true},
        {" , \"x\" ,\t\"4-0862575d-a3a6bf43\" ", true},
        {"\"x\"", false},
        {"\"4-0862575d-a3a6bf43-gz\"", false},
        {"\"3-0862575d-a3a6bf43\"", false},
        {"4-0862575d-a3a6bf43", false},          /* not quoted */
        {"\"4-0862575d-a3a6bf43", false},         /* not closed */
        {"\"x\" junk, \"4-0862575d-a3a6bf43\"", false},
        {"*, \"4-0862575d-a3a6bf43\"", false},
        {"w/\"4-0862575d-a3a6bf43\"", false},      /* W/ is case-sensitive */
        {"\"4-0862575d a3a6bf43\"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (srv_etag_match(cases[i].header, tag) != cases[i].match)
            fail_msg("If-None-Match '%s': wanted %s", cases[i].header ? cases[i].header : "(none)",
                     cases[i].match ? "a match" : "none");
    assert_false(srv_etag_match("*", NULL));
}

/* ---- ETags and gzip ------------------------------------------------------------------- */

static void test_etag(void **state)
{
    (void)state;
    char tag[RSC_ETAG_MAX], gz[RSC_ETAG_MAX];
    /* crc32("k") = 0862575d, crc32("{}") = a3a6bf43, crc32("") = 0 */
    rsc_etag(tag, 4, "k", 1, "{}", 2);
    assert_string_equal(tag, "\"4-0862575d-a3a6bf43\"");
    rsc_etag_gzip(gz, tag);
    assert_string_equal(gz, "\"4-0862575d-a3a6bf43-gz\"");
    rsc_etag(tag, -1, "k", 1, "", 0);
    assert_string_equal(tag, "\"n-0862575d-00000000\"");
    rsc_etag(tag, INT64_MAX, "k", 1, "{}", 2);
    assert_string_equal(tag, "\"9223372036854775807-0862575d-a3a6bf43\"");
    assert_true(srv_etag_match(tag, tag));
}

/* inflate a gzip member; the bytes, *n long (malloc'd) */
static char *gunzip(const srv_body *b, size_t max, size_t *n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    char *out = malloc(max);
    assert_non_null(out);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)b->data;
    z.avail_in = (uInt)b->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)max;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);
    *n = z.total_out;
    inflateEnd(&z);
    return out;
}

static void test_gzip(void **state)
{
    (void)state;
    /* a history-like answer: 1000 similar rows */
    size_t cap = 1000 * 96 + 64, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "{\"builds\":[");
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{\"id\":%d,\"used\":%d,\"errors\":[]}", i ? "," : "", i,
                                600000 + i * 4);
    len += (size_t)snprintf(text + len, cap - len, "]}");
    srv_body *gz = srv_gzip(text, len), *again = srv_gzip(text, len);
    assert_non_null(gz);
    assert_non_null(again);
    /* a gzip member: magic, deflate, no flags, no time; the same bytes each time */
    assert_int_equal((unsigned char)gz->data[0], 0x1f);
    assert_int_equal((unsigned char)gz->data[1], 0x8b);
    assert_int_equal(gz->data[2], 8);
    assert_int_equal(gz->data[3], 0);
    assert_memory_equal(gz->data + 4, "\0\0\0\0", 4);
    assert_int_equal(gz->len, again->len);
    assert_memory_equal(gz->data, again->data, gz->len);
    assert_true(gz->len * 5 < len);
    size_t n;
    char *back = gunzip(gz, cap, &n);
    assert_int_equal(n, len);
    assert_memory_equal(back, text, len);
    free(back);
    srv_body_unref(gz);
    srv_body_unref(again);
    /* an empty body is a valid member too */
    gz = srv_gzip("", 0);
    assert_non_null(gz);
    back = gunzip(gz, 16, &n);
    assert_int_equal(n, 0);
    free(back);
    srv_body_unref(gz);
    free(text);
}

/* ---- the cache -------------------------------------------------------------------- */

static void test_hit_and_generation(void **state)
{
    (void)state;
    rsc_cache c;
    rsc_init(&c, 5000);
    rsc_hit h;
    srv_body *a = body_of("{\"a\":1}");
    assert_false(get(&c, "k", 1, 0, &h));
    assert_null(h.plain);
    put(&c, "k", 1, 0, a);
    assert_true(get(&c, "k", 1, 10, &h));
    assert_ptr_equal(h.plain, a); /* the same bytes, not a copy */
    assert_null(h.gz);
    assert_string_equal(h.etag, "\"etag\"");
    rsc_hit_release(&h);
    /* another key, or a key that only starts the same, is a miss */
    assert_false(get(&c, "k2", 1, 10, &h));
    assert_false(get(&c, "", 1, 10, &h));
    /* the database moved on: a miss, and the entry is gone */
    assert_false(get(&c, "k", 2, 20, &h));
    assert_false(get(&c, "k", 1, 30, &h));
    assert_int_equal(c.bytes, 0);
    assert_int_equal(c.hits, 1);
    assert_int_equal(c.misses, 5);
    /* an entry of a newer generation drops those of older ones */
    srv_body *b = body_of("{\"b\":22}");
    put(&c, "k", 1, 40, a);
    put(&c, "other", 1, 40, a);
    assert_int_equal(c.bytes, 2 * a->len);
    put(&c, "k", 2, 50, b);
    assert_int_equal(c.bytes, b->len);
    assert_false(get(&c, "other", 1, 60, &h));
    assert_true(get(&c, "k", 2, 60, &h));
    assert_ptr_equal(h.plain, b);
    rsc_hit_release(&h);
    /* put again for the same key and generation: replaced */
    put(&c, "k", 2, 70, a);
    assert_int_equal(c.bytes, a->len);
    assert_true(get(&c, "k", 2, 80, &h));
    assert_ptr_equal(h.plain, a);
    rsc_hit_release(&h);
    rsc_free(&c);
    assert_int_equal(refs(a), 1);
    assert_int_equal(refs(b), 1);
    srv_body_unref(a);
    srv_body_unref(b);
}

static void test_ttl(void **state)
{
    (void)state;
    rsc_cache c;
    rsc_init(&c, 5000);
    rsc_hit h;
    srv_body *a = body_of("{}");
    put(&c, "k", 7, 1000, a);
    assert_true(get(&c, "k", 7, 1000, &h));
    rsc_hit_release(&h);
    assert_true(get(&c, "k", 7, 5999, &h)); /* 4,999 ms old */
    rsc_hit_release(&h);
    assert_false(get(&c, "k", 7, 6000, &h)); /* 5,000 ms: this caller reads it again */
    assert_true(get(&c, "k", 7, 6001, &h));  /* the others get the entry meanwhile */
    assert_ptr_equal(h.plain, a);
    rsc_hit_release(&h);
    assert_false(get(&c, "k", 7, 11000, &h)); /* no new answer a TTL later: read again */
    assert_true(get(&c, "k", 7, 11001, &h));
    rsc_hit_release(&h);
    assert_false(get(&c, "k", 8, 11002, &h)); /* a new generation: dropped at once */
    assert_int_equal(c.bytes, 0);
    assert_int_equal(refs(a), 1);
    assert_false(get(&c, "k", 8, 11003, &h));
    /* filled again, it counts from then */
    put(&c, "k", 8, 11003, a);
    assert_true(get(&c, "k", 8, 16002, &h));
    rsc_hit_release(&h);
    assert_false(get(&c, "k", 8, 16003, &h));
    rsc_free(&c);
    srv_body_unref(a);
}

static void test_eviction(void **state)
{
    (void)state;
    rsc_cache c;
    rsc_init(&c, 5000);
    rsc_hit h;
    srv_body *a = body_of("{\"x\":0}");
    char key[32];
    for (int i = 0; i < RSC_SLOTS; i++) {
        snprintf(key, sizeof key, "key%d", i);
        put(&c, key, 1, i, a);
    }
    assert_int_equal(refs(a), 1 + RSC_SLOTS);
    assert_true(get(&c, "key0", 1, 100, &h)); /* key0 used last: key1 is the oldest now */
    rsc_hit_release(&h);
    put(&c, "new", 1, 101, a);
    assert_int_equal(refs(a), 1 + RSC_SLOTS);
    assert_true(get(&c, "key0", 1, 102, &h));
    rsc_hit_release(&h);
    assert_false(get(&c, "key1", 1, 103, &h));
    for (int i = 2; i < RSC_SLOTS; i++) {
        snprintf(key, sizeof key, "key%d", i);
        assert_true(get(&c, key, 1, 104, &h));
        rsc_hit_release(&h);
    }
    assert_true(get(&c, "new", 1, 105, &h));
    rsc_hit_release(&h);
    rsc_free(&c);
    assert_int_equal(refs(a), 1);
    srv_body_unref(a);

    /* The byte cap: 8 bodies of the largest size kept fill it; a ninth
     * evicts the least recently used; one byte more is not kept at all. */
    rsc_init(&c, 5000);
    size_t big = RSC_MAX_BYTES / 8;
    srv_body *bodies[9];
    for (int i = 0; i < 9; i++) {
        bodies[i] = srv_body_adopt(malloc(big), big);
        assert_non_null(bodies[i]);
        snprintf(key, sizeof key, "big%d", i);
        put(&c, key, 1, i, bodies[i]);
        assert_true(c.bytes <= RSC_MAX_BYTES);
    }
    assert_int_equal(c.bytes, RSC_MAX_BYTES);
    assert_int_equal(refs(bodies[0]), 1); /* evicted */
    assert_false(get(&c, "big0", 1, 10, &h));
    for (int i = 1; i < 9; i++) {
        snprintf(key, sizeof key, "big%d", i);
        assert_true(get(&c, key, 1, 10, &h));
        rsc_hit_release(&h);
    }
    srv_body *huge = srv_body_adopt(malloc(big + 1), big + 1);
    assert_non_null(huge);
    put(&c, "huge", 1, 11, huge);
    assert_false(get(&c, "huge", 1, 12, &h));
    assert_int_equal(refs(huge), 1);
    assert_int_equal(c.bytes, RSC_MAX_BYTES);
    rsc_free(&c);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(refs(bodies[i]), 1);
        srv_body_unref(bodies[i]);
    }
    srv_body_unref(huge);
}

/* A body handed out stays valid after its entry is evicted, until the last
 * reference goes; the gzip body is kept beside the plain one it was made from. */
static void test_refcounts(void **state)
{
    (void)state;
    rsc_cache c;
    rsc_init(&c, 5000);
    rsc_hit h, h2;
    srv_body *a = body_of("{\"answer\":42}");
    assert_int_equal(refs(a), 1);
    put(&c, "k", 1, 0, a);
    assert_int_equal(refs(a), 2);
    srv_body_unref(a); /* only the cache holds it now */
    assert_true(get(&c, "k", 1, 1, &h));
    assert_int_equal(refs(h.plain), 2);
    /* gzip made for it, kept in the same entry */
    srv_body *gz = srv_gzip(h.plain->data, h.plain->len);
    assert_non_null(gz);
    srv_body *stranger = body_of("{\"answer\":42}");
    rsc_put_gzip(&c, "k", 1, stranger, gz); /* not the entry's body: not kept */
    assert_int_equal(refs(gz), 1);
    rsc_put_gzip(&c, "k", 1, h.plain, gz);
    assert_int_equal(refs(gz), 2);
    assert_int_equal(c.bytes, h.plain->len + gz->len);
    assert_true(get(&c, "k", 1, 2, &h2));
    assert_ptr_equal(h2.gz, gz);
    assert_int_equal(refs(gz), 3);
    srv_body *gz2 = srv_gzip(h.plain->data, h.plain->len);
    rsc_put_gzip(&c, "k", 1, h.plain, gz2); /* it has one already */
    assert_int_equal(refs(gz2), 1);
    srv_body_unref(gz2);
    rsc_hit_release(&h2);
    assert_null(h2.plain);
    srv_body_unref(gz);
    /* evicted (a new generation) while h is still being sent */
    put(&c, "other", 2, 3, stranger);
    assert_int_equal(c.bytes, stranger->len);
    assert_int_equal(refs(h.plain), 1);
    assert_memory_equal(h.plain->data, "{\"answer\":42}", 13);
    rsc_hit_release(&h); /* the last reference: freed (ASan/LSan check it) */
    rsc_put_gzip(&c, "k", 1, NULL, NULL);
    rsc_free(&c);
    assert_int_equal(refs(stranger), 1);
    srv_body_unref(stranger);
    srv_body_unref(NULL);
}

/* Threads sharing one cache: the references stay right (the sanitizer build
 * reports a body freed while in use, or never freed). */
typedef struct hammer {
    rsc_cache *c;
    int id;
} hammer;

static void *hammer_run(void *arg)
{
    const hammer *hm = arg;
    char key[16];
    for (int i = 0; i < 20000; i++) {
        /* 24 keys, fewer than the cache's 32 slots: a thread that runs
         * alone for a while (a loaded machine runs them one after the
         * other) hits; 40 keys cycled in a fixed order through 32 LRU slots
         * missed every time, and the test failed when the threads did not
         * interleave */
        snprintf(key, sizeof key, "k%d", (i * 7 + hm->id) % 24);
        int64_t gen = i / 5000;
        rsc_hit h;
        if (rsc_get(hm->c, key, strlen(key), gen, i, &h)) {
            if (h.plain->len != strlen(key) || memcmp(h.plain->data, key, h.plain->len) != 0)
                return "a hit with another key's body";
            if (!h.gz && (i & 1)) {
                srv_body *gz = srv_gzip(h.plain->data, h.plain->len);
                rsc_put_gzip(hm->c, key, strlen(key), h.plain, gz);
                srv_body_unref(gz);
            }
            rsc_hit_release(&h);
        } else {
            srv_body *b = body_of(key);
            rsc_put(hm->c, key, strlen(key), gen, i, b, "\"t\"");
            srv_body_unref(b);
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    rsc_cache c;
    rsc_init(&c, 50);
    pthread_t t[4];
    hammer hm[4];
    for (int i = 0; i < 4; i++) {
        hm[i] = (hammer){&c, i};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &hm[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *err;
        pthread_join(t[i], &err);
        if (err)
            fail_msg("%s", (const char *)err);
    }
    if (!(c.hits > 0 && c.misses > 0))
        fail_msg("hits %llu misses %llu", (unsigned long long)c.hits, (unsigned long long)c.misses);
    rsc_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_encoding), cmocka_unit_test(test_if_none_match),
        cmocka_unit_test(test_etag),            cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_hit_and_generation), cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_eviction),        cmocka_unit_test(test_refcounts),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("respcache", tests, NULL, NULL);
}
