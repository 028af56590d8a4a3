/*
 * libfido2 (an independent C client) drives the management side of a CTAPHID-over-UDP
 * authenticator (`ctap virtual serve --udp`): credential management, large blobs,
 * authenticatorConfig, PIN change, and the hmac-secret, credProtect and credBlob
 * extensions, then authenticatorReset. Every answer is checked through libfido2's own
 * parsers (and fido_cred_verify / fido_assert_verify where there is a signature).
 * Prints one "ok <step>" line per step; exits non-zero on the first failure.
 *
 * Build: cc libfido2_manage.c $(pkg-config --cflags --libs libfido2) -o libfido2_manage
 * Usage: libfido2_manage HOST PORT CAPACITY RESET
 *   CAPACITY  the --capacity the key was served with (checked against credman metadata)
 *   RESET     "allowed": fido_dev_reset must succeed and wipe the key;
 *             "refused": fido_dev_reset must fail with FIDO_ERR_NOT_ALLOWED (the key is
 *             past its reset window after power-up)
 */
#include <fido.h>
#include <fido/config.h>
#include <fido/credman.h>
#include <fido/es256.h>
#include <stdbool.h>
#include <stdint.h>

#include "udp_io.h"

#define PIN_OLD "5931-manage"
#define PIN_NEW "8402-manage-new" /* 15 characters: satisfies the raised minimum PIN length */
#define RP_A "alpha.example.com"
#define RP_B "beta.example.com"
#define RP_C "gamma.example.com"

static void
fail(const char *what, int r)
{
	fprintf(stderr, "FAIL %s: %s (%d)\n", what, fido_strerr(r), r);
	exit(1);
}

static void
fail_msg(const char *what)
{
	fprintf(stderr, "FAIL %s\n", what);
	exit(1);
}

#define CHECK(what, expr) do { int r_ = (expr); if (r_ != FIDO_OK) fail(what, r_); } while (0)
#define EXPECT(what, cond) do { if (!(cond)) fail_msg(what); } while (0)
/* The call must fail with exactly `want` (a FIDO_ERR_* code). */
#define EXPECT_ERR(what, want, expr) do { int r_ = (expr); if (r_ != (want)) { \
	fprintf(stderr, "FAIL %s: expected %s, got %s (%d)\n", what, fido_strerr(want), fido_strerr(r_), r_); exit(1); } } while (0)

static unsigned char cdh[32];

static void
random_bytes(unsigned char *buf, size_t len)
{
	FILE *f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(buf, 1, len, f) != len)
		fail_msg("read /dev/urandom");
	fclose(f);
}

struct cred_opts {
	const char *rp;
	const char *user_id;
	const char *user_name;
	bool rk;
	int ext;                 /* FIDO_EXT_* mask */
	int prot;                /* credProtect level, 0 = none */
	const unsigned char *blob; /* credBlob, NULL = none */
	size_t blob_len;
	const char *pin;         /* NULL = no PIN/UV */
};

/* makeCredential; the packed attestation is verified by fido_cred_verify. */
static fido_cred_t *
make_cred(fido_dev_t *dev, const struct cred_opts *o)
{
	fido_cred_t *cred = fido_cred_new();
	if (cred == NULL)
		fail_msg("fido_cred_new");
	CHECK("cred type", fido_cred_set_type(cred, COSE_ES256));
	CHECK("cred cdh", fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)));
	CHECK("cred rp", fido_cred_set_rp(cred, o->rp, NULL));
	CHECK("cred user", fido_cred_set_user(cred, (const unsigned char *)o->user_id, strlen(o->user_id), o->user_name, NULL, NULL));
	CHECK("cred rk", fido_cred_set_rk(cred, o->rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT));
	if (o->ext)
		CHECK("cred extensions", fido_cred_set_extensions(cred, o->ext));
	if (o->prot)
		CHECK("cred prot", fido_cred_set_prot(cred, o->prot));
	if (o->blob)
		CHECK("cred blob", fido_cred_set_blob(cred, o->blob, o->blob_len));
	CHECK("fido_dev_make_cred", fido_dev_make_cred(dev, cred, o->pin));
	CHECK("fido_cred_verify (attestation)", fido_cred_verify(cred));
	return cred;
}

/*
 * getAssertion; returns libfido2's status and, on success, the assertion in *out with every
 * signature verified against `cred` when given (allow list = that credential).
 */
static int
get_assert(fido_dev_t *dev, const char *rp, const fido_cred_t *cred, bool allow, const char *pin, int ext,
    const unsigned char *salt, fido_assert_t **out)
{
	fido_assert_t *a = fido_assert_new();
	int r;

	if (a == NULL)
		fail_msg("fido_assert_new");
	CHECK("assert cdh", fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)));
	CHECK("assert rp", fido_assert_set_rp(a, rp));
	if (allow && cred != NULL)
		CHECK("assert allow", fido_assert_allow_cred(a, fido_cred_id_ptr(cred), fido_cred_id_len(cred)));
	if (ext)
		CHECK("assert extensions", fido_assert_set_extensions(a, ext));
	if (salt != NULL)
		CHECK("assert hmac salt", fido_assert_set_hmac_salt(a, salt, 32));
	r = fido_dev_get_assert(dev, a, pin);
	if (r == FIDO_OK && cred != NULL) {
		es256_pk_t *pk = es256_pk_new();
		CHECK("es256_pk_from_ptr", es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)));
		for (size_t i = 0; i < fido_assert_count(a); i++)
			CHECK("fido_assert_verify", fido_assert_verify(a, i, COSE_ES256, pk));
		es256_pk_free(&pk);
	}
	if (out != NULL && r == FIDO_OK)
		*out = a;
	else
		fido_assert_free(&a);
	return r;
}

/* The value of a getInfo option ("ep", "alwaysUv", ...): 1 true, 0 false, -1 absent. */
static int
info_option(fido_dev_t *dev, const char *name, fido_cbor_info_t **keep)
{
	fido_cbor_info_t *ci = fido_cbor_info_new();
	int v = -1;
	CHECK("fido_dev_get_cbor_info", fido_dev_get_cbor_info(dev, ci));
	char **names = fido_cbor_info_options_name_ptr(ci);
	const bool *values = fido_cbor_info_options_value_ptr(ci);
	for (size_t i = 0; i < fido_cbor_info_options_len(ci); i++)
		if (strcmp(names[i], name) == 0)
			v = values[i] ? 1 : 0;
	if (keep != NULL)
		*keep = ci;
	else
		fido_cbor_info_free(&ci);
	return v;
}

static uint64_t
rk_existing(fido_dev_t *dev, const char *pin, uint64_t *remaining)
{
	fido_credman_metadata_t *md = fido_credman_metadata_new();
	CHECK("fido_credman_get_dev_metadata", fido_credman_get_dev_metadata(dev, md, pin));
	uint64_t n = fido_credman_rk_existing(md);
	if (remaining != NULL)
		*remaining = fido_credman_rk_remaining(md);
	fido_credman_metadata_free(&md);
	return n;
}

/* Does the RP list hold rp_id? */
static bool
rp_listed(const fido_credman_rp_t *rps, const char *rp_id)
{
	for (size_t i = 0; i < fido_credman_rp_count(rps); i++)
		if (fido_credman_rp_id(rps, i) != NULL && strcmp(fido_credman_rp_id(rps, i), rp_id) == 0)
			return true;
	return false;
}

/* Does the credential list hold a credential of user_name (and user id == user_name)? */
static const fido_cred_t *
rk_of_user(const fido_credman_rk_t *rks, const char *user_name)
{
	for (size_t i = 0; i < fido_credman_rk_count(rks); i++) {
		const fido_cred_t *c = fido_credman_rk(rks, i);
		if (fido_cred_user_name(c) != NULL && strcmp(fido_cred_user_name(c), user_name) == 0)
			return c;
	}
	return NULL;
}

static void
step_credman(fido_dev_t *dev, uint64_t capacity)
{
	fido_cred_t *alice, *bob, *carol;
	uint64_t remaining;

	struct cred_opts o = { .rp = RP_A, .user_id = "alice", .user_name = "alice", .rk = true, .pin = PIN_OLD };
	alice = make_cred(dev, &o);
	o.user_id = o.user_name = "bob";
	bob = make_cred(dev, &o);
	o.rp = RP_B;
	o.user_id = o.user_name = "carol";
	carol = make_cred(dev, &o);

	uint64_t existing = rk_existing(dev, PIN_OLD, &remaining);
	EXPECT("metadata existing == 3", existing == 3);
	EXPECT("metadata remaining == capacity - 3", remaining == capacity - 3);
	printf("ok credman metadata existing=%llu remaining=%llu\n", (unsigned long long)existing, (unsigned long long)remaining);

	fido_credman_rp_t *rps = fido_credman_rp_new();
	CHECK("fido_credman_get_dev_rp", fido_credman_get_dev_rp(dev, rps, PIN_OLD));
	EXPECT("two RPs listed", fido_credman_rp_count(rps) == 2);
	EXPECT("RP " RP_A " listed", rp_listed(rps, RP_A));
	EXPECT("RP " RP_B " listed", rp_listed(rps, RP_B));
	printf("ok credman rps %s,%s\n", fido_credman_rp_id(rps, 0), fido_credman_rp_id(rps, 1));
	fido_credman_rp_free(&rps);

	fido_credman_rk_t *rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk " RP_A, fido_credman_get_dev_rk(dev, RP_A, rks, PIN_OLD));
	EXPECT("two credentials for " RP_A, fido_credman_rk_count(rks) == 2);
	const fido_cred_t *listed_alice = rk_of_user(rks, "alice");
	const fido_cred_t *listed_bob = rk_of_user(rks, "bob");
	EXPECT("alice listed", listed_alice != NULL);
	EXPECT("bob listed", listed_bob != NULL);
	/* The listed credential ids and public keys are the ones makeCredential returned. */
	EXPECT("alice credential id", fido_cred_id_len(listed_alice) == fido_cred_id_len(alice) &&
	    memcmp(fido_cred_id_ptr(listed_alice), fido_cred_id_ptr(alice), fido_cred_id_len(alice)) == 0);
	EXPECT("bob public key", fido_cred_pubkey_len(listed_bob) == fido_cred_pubkey_len(bob) &&
	    memcmp(fido_cred_pubkey_ptr(listed_bob), fido_cred_pubkey_ptr(bob), fido_cred_pubkey_len(bob)) == 0);
	EXPECT("bob user id", fido_cred_user_id_len(listed_bob) == 3 && memcmp(fido_cred_user_id_ptr(listed_bob), "bob", 3) == 0);
	printf("ok credman rks " RP_A " users=alice,bob\n");
	fido_credman_rk_free(&rks);

	rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk " RP_B, fido_credman_get_dev_rk(dev, RP_B, rks, PIN_OLD));
	EXPECT("one credential (carol) for " RP_B, fido_credman_rk_count(rks) == 1 && rk_of_user(rks, "carol") != NULL);
	fido_credman_rk_free(&rks);

	/* Delete bob: the count drops, only alice is left under RP_A, bob no longer asserts. */
	CHECK("fido_credman_del_dev_rk", fido_credman_del_dev_rk(dev, fido_cred_id_ptr(bob), fido_cred_id_len(bob), PIN_OLD));
	EXPECT("metadata existing == 2 after delete", rk_existing(dev, PIN_OLD, NULL) == 2);
	rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk after delete", fido_credman_get_dev_rk(dev, RP_A, rks, PIN_OLD));
	EXPECT("only alice left", fido_credman_rk_count(rks) == 1 && rk_of_user(rks, "alice") != NULL);
	fido_credman_rk_free(&rks);
	EXPECT_ERR("deleted credential no longer asserts", FIDO_ERR_NO_CREDENTIALS, get_assert(dev, RP_A, bob, true, NULL, 0, NULL, NULL));
	EXPECT_ERR("deleting it again", FIDO_ERR_NO_CREDENTIALS,
	    fido_credman_del_dev_rk(dev, fido_cred_id_ptr(bob), fido_cred_id_len(bob), PIN_OLD));
	printf("ok credman delete count 3 -> 2\n");

	/* updateUserInformation: alice's display name changes, her credential id stays. */
	rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk", fido_credman_get_dev_rk(dev, RP_A, rks, PIN_OLD));
	fido_cred_t *upd = fido_cred_new();
	CHECK("upd id", fido_cred_set_id(upd, fido_cred_id_ptr(alice), fido_cred_id_len(alice)));
	CHECK("upd user", fido_cred_set_user(upd, (const unsigned char *)"alice", 5, "alice", "Alice Liddell", NULL));
	CHECK("fido_credman_set_dev_rk", fido_credman_set_dev_rk(dev, upd, PIN_OLD));
	fido_cred_free(&upd);
	fido_credman_rk_free(&rks);
	rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk after update", fido_credman_get_dev_rk(dev, RP_A, rks, PIN_OLD));
	listed_alice = rk_of_user(rks, "alice");
	EXPECT("alice still listed", listed_alice != NULL);
	EXPECT("updated display name", fido_cred_display_name(listed_alice) != NULL && strcmp(fido_cred_display_name(listed_alice), "Alice Liddell") == 0);
	fido_credman_rk_free(&rks);
	printf("ok credman set_dev_rk display name updated\n");

	fido_cred_free(&alice);
	fido_cred_free(&bob);
	fido_cred_free(&carol);
}

static void
step_largeblob(fido_dev_t *dev)
{
	/* Random, hence incompressible, data: libfido2 1.12 deflates before encrypting. */
	unsigned char data1[700], data2[300];
	unsigned char *got = NULL;
	size_t got_len = 0;

	random_bytes(data1, sizeof(data1));
	random_bytes(data2, sizeof(data2));
	struct cred_opts o = { .rp = RP_B, .user_id = "blob-1", .user_name = "blob-1", .rk = true,
	    .ext = FIDO_EXT_LARGEBLOB_KEY, .pin = PIN_OLD };
	fido_cred_t *c1 = make_cred(dev, &o);
	o.user_id = o.user_name = "blob-2";
	fido_cred_t *c2 = make_cred(dev, &o);
	EXPECT("largeBlobKey (32 bytes) from makeCredential", fido_cred_largeblob_key_len(c1) == 32 && fido_cred_largeblob_key_len(c2) == 32);
	EXPECT("distinct largeBlobKeys", memcmp(fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_ptr(c2), 32) != 0);

	/* getAssertion with the largeBlobKey extension returns the same key. */
	fido_assert_t *a = NULL;
	CHECK("getAssertion largeBlobKey", get_assert(dev, RP_B, c1, true, PIN_OLD, FIDO_EXT_LARGEBLOB_KEY, NULL, &a));
	EXPECT("largeBlobKey from getAssertion", fido_assert_largeblob_key_len(a, 0) == 32 &&
	    memcmp(fido_assert_largeblob_key_ptr(a, 0), fido_cred_largeblob_key_ptr(c1), 32) == 0);
	fido_assert_free(&a);

	/* Credential management lists the same largeBlobKey (CTAP 2.1 credMgmt response 0x0B). */
	fido_credman_rk_t *rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk " RP_B, fido_credman_get_dev_rk(dev, RP_B, rks, PIN_OLD));
	const fido_cred_t *listed = rk_of_user(rks, "blob-1");
	EXPECT("blob-1 listed", listed != NULL);
	EXPECT("credman largeBlobKey", fido_cred_largeblob_key_len(listed) == 32 &&
	    memcmp(fido_cred_largeblob_key_ptr(listed), fido_cred_largeblob_key_ptr(c1), 32) == 0);
	fido_credman_rk_free(&rks);

	const unsigned char *k1 = fido_cred_largeblob_key_ptr(c1), *k2 = fido_cred_largeblob_key_ptr(c2);
	CHECK("fido_dev_largeblob_set 1", fido_dev_largeblob_set(dev, k1, 32, data1, sizeof(data1), PIN_OLD));
	CHECK("fido_dev_largeblob_set 2", fido_dev_largeblob_set(dev, k2, 32, data2, sizeof(data2), PIN_OLD));
	CHECK("fido_dev_largeblob_get 1", fido_dev_largeblob_get(dev, k1, 32, &got, &got_len));
	EXPECT("blob 1 round trip", got_len == sizeof(data1) && memcmp(got, data1, got_len) == 0);
	free(got);
	CHECK("fido_dev_largeblob_get 2", fido_dev_largeblob_get(dev, k2, 32, &got, &got_len));
	EXPECT("blob 2 round trip", got_len == sizeof(data2) && memcmp(got, data2, got_len) == 0);
	free(got);
	printf("ok largeBlob set/get %zu+%zu bytes\n", sizeof(data1), sizeof(data2));

	/* Remove blob 1: it is gone, blob 2 is intact. */
	CHECK("fido_dev_largeblob_remove", fido_dev_largeblob_remove(dev, k1, 32, PIN_OLD));
	got = NULL;
	EXPECT_ERR("removed blob is not found", FIDO_ERR_NOTFOUND, fido_dev_largeblob_get(dev, k1, 32, &got, &got_len));
	CHECK("fido_dev_largeblob_get 2 after remove", fido_dev_largeblob_get(dev, k2, 32, &got, &got_len));
	EXPECT("blob 2 intact after removing blob 1", got_len == sizeof(data2) && memcmp(got, data2, got_len) == 0);
	free(got);
	printf("ok largeBlob remove\n");
	fido_cred_free(&c1);
	fido_cred_free(&c2);
}

/* One hmac-secret output for cred and salt (32 bytes into out). */
static void
hmac_secret(fido_dev_t *dev, const fido_cred_t *cred, const unsigned char *salt, const char *pin, unsigned char out[32])
{
	fido_assert_t *a = NULL;
	CHECK("getAssertion hmac-secret", get_assert(dev, RP_C, cred, true, pin, FIDO_EXT_HMAC_SECRET, salt, &a));
	EXPECT("hmac-secret output is 32 bytes", fido_assert_hmac_secret_len(a, 0) == 32);
	memcpy(out, fido_assert_hmac_secret_ptr(a, 0), 32);
	fido_assert_free(&a);
}

static void
step_hmac_secret(fido_dev_t *dev)
{
	unsigned char salt1[32], salt2[32], s1[32], s1again[32], s2[32], other[32], s1uv[32];

	random_bytes(salt1, sizeof(salt1));
	random_bytes(salt2, sizeof(salt2));
	struct cred_opts o = { .rp = RP_C, .user_id = "hmac-1", .user_name = "hmac-1", .ext = FIDO_EXT_HMAC_SECRET };
	fido_cred_t *c1 = make_cred(dev, &o);
	/* libfido2 parses the hmac-secret output but has no getter for it: the ED flag (0x80) is set. */
	EXPECT("extension data in makeCredential", (fido_cred_flags(c1) & 0x80) != 0);
	o.user_id = o.user_name = "hmac-2";
	fido_cred_t *c2 = make_cred(dev, &o);

	hmac_secret(dev, c1, salt1, NULL, s1);
	hmac_secret(dev, c1, salt1, NULL, s1again);
	EXPECT("same credential and salt give the same secret", memcmp(s1, s1again, 32) == 0);
	hmac_secret(dev, c1, salt2, NULL, s2);
	EXPECT("another salt gives another secret", memcmp(s1, s2, 32) != 0);
	{
		/* Two salts in one request (64 bytes): the output is secret(salt1) || secret(salt2). */
		unsigned char both[64];
		fido_assert_t *a = fido_assert_new();
		memcpy(both, salt1, 32);
		memcpy(both + 32, salt2, 32);
		CHECK("assert cdh", fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)));
		CHECK("assert rp", fido_assert_set_rp(a, RP_C));
		CHECK("assert allow", fido_assert_allow_cred(a, fido_cred_id_ptr(c1), fido_cred_id_len(c1)));
		CHECK("assert extensions", fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET));
		CHECK("assert hmac salt (64)", fido_assert_set_hmac_salt(a, both, sizeof(both)));
		CHECK("getAssertion hmac-secret two salts", fido_dev_get_assert(dev, a, NULL));
		EXPECT("two-salt output is 64 bytes", fido_assert_hmac_secret_len(a, 0) == 64);
		EXPECT("two-salt output = secret(salt1) || secret(salt2)",
		    memcmp(fido_assert_hmac_secret_ptr(a, 0), s1, 32) == 0 && memcmp(fido_assert_hmac_secret_ptr(a, 0) + 32, s2, 32) == 0);
		fido_assert_free(&a);
	}
	hmac_secret(dev, c2, salt1, NULL, other);
	EXPECT("another credential gives another secret", memcmp(s1, other, 32) != 0);
	/* CTAP 2.1 §12.5: with UV the authenticator uses CredRandomWithUV, a different secret. */
	hmac_secret(dev, c1, salt1, PIN_OLD, s1uv);
	EXPECT("the secret with UV differs from the one without", memcmp(s1, s1uv, 32) != 0);
	printf("ok hmac-secret deterministic per credential+salt, distinct across credentials, salts and UV; two salts at once\n");
	fido_cred_free(&c1);
	fido_cred_free(&c2);
}

static void
step_cred_protect(fido_dev_t *dev)
{
	fido_assert_t *a = NULL;
	struct cred_opts o = { .rp = "protected.example.com", .user_id = "prot-3", .user_name = "prot-3", .rk = true,
	    .ext = FIDO_EXT_CRED_PROTECT, .prot = FIDO_CRED_PROT_UV_REQUIRED, .pin = PIN_OLD };
	fido_cred_t *c = make_cred(dev, &o);
	EXPECT("credProtect=3 echoed in authenticator data", fido_cred_prot(c) == FIDO_CRED_PROT_UV_REQUIRED);
	/* userVerificationRequired: without UV the credential is invisible, with or without an allow list. */
	EXPECT_ERR("discoverable without UV", FIDO_ERR_NO_CREDENTIALS, get_assert(dev, o.rp, c, false, NULL, 0, NULL, NULL));
	EXPECT_ERR("allow list without UV", FIDO_ERR_NO_CREDENTIALS, get_assert(dev, o.rp, c, true, NULL, 0, NULL, NULL));
	CHECK("assertion with PIN", get_assert(dev, o.rp, c, false, PIN_OLD, 0, NULL, &a));
	EXPECT("UV flag set", (fido_assert_flags(a, 0) & 0x04) != 0);
	fido_assert_free(&a);
	/* Credential management reports the protection level of the stored credential. */
	fido_credman_rk_t *rks = fido_credman_rk_new();
	CHECK("fido_credman_get_dev_rk protected", fido_credman_get_dev_rk(dev, o.rp, rks, PIN_OLD));
	EXPECT("one protected credential listed", fido_credman_rk_count(rks) == 1);
	EXPECT("credman lists credProtect=3", fido_cred_prot(fido_credman_rk(rks, 0)) == FIDO_CRED_PROT_UV_REQUIRED);
	fido_credman_rk_free(&rks);
	printf("ok credProtect=3 invisible without UV, found with PIN, listed with prot=3\n");
	fido_cred_free(&c);
}

static void
step_cred_blob(fido_dev_t *dev)
{
	unsigned char blob[32];
	fido_assert_t *a = NULL;

	random_bytes(blob, sizeof(blob));
	struct cred_opts o = { .rp = "credblob.example.com", .user_id = "blob-user", .user_name = "blob-user", .rk = true,
	    .ext = FIDO_EXT_CRED_BLOB, .blob = blob, .blob_len = sizeof(blob), .pin = PIN_OLD };
	fido_cred_t *c = make_cred(dev, &o);
	EXPECT("extension data in makeCredential", (fido_cred_flags(c) & 0x80) != 0);
	CHECK("getAssertion credBlob", get_assert(dev, o.rp, c, false, PIN_OLD, FIDO_EXT_CRED_BLOB, NULL, &a));
	EXPECT("credBlob round trip", fido_assert_blob_len(a, 0) == sizeof(blob) && memcmp(fido_assert_blob_ptr(a, 0), blob, sizeof(blob)) == 0);
	fido_assert_free(&a);
	printf("ok credBlob %zu bytes round trip\n", sizeof(blob));
	fido_cred_free(&c);
}

static void
step_config(fido_dev_t *dev)
{
	fido_cbor_info_t *ci = NULL;

	/* Enterprise attestation. */
	EXPECT("ep present and false before", info_option(dev, "ep", NULL) == 0);
	CHECK("fido_dev_enable_entattest", fido_dev_enable_entattest(dev, PIN_OLD));
	EXPECT("getInfo ep == true", info_option(dev, "ep", NULL) == 1);
	printf("ok config enableEnterpriseAttestation (getInfo ep=true)\n");

	/* alwaysUv: on, a makeCredential without UV is refused; off again. */
	EXPECT("alwaysUv false before", info_option(dev, "alwaysUv", NULL) == 0);
	CHECK("fido_dev_toggle_always_uv on", fido_dev_toggle_always_uv(dev, PIN_OLD));
	EXPECT("getInfo alwaysUv == true", info_option(dev, "alwaysUv", NULL) == 1);
	{
		fido_cred_t *c = fido_cred_new();
		CHECK("cred type", fido_cred_set_type(c, COSE_ES256));
		CHECK("cred cdh", fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)));
		CHECK("cred rp", fido_cred_set_rp(c, RP_C, NULL));
		CHECK("cred user", fido_cred_set_user(c, (const unsigned char *)"nouv", 4, "nouv", NULL, NULL));
		int r = fido_dev_make_cred(dev, c, NULL);
		/* CTAP 2.1 §6.1.2 step 6: alwaysUv with a PIN set and no pinUvAuthParam -> PUAT_REQUIRED. */
		EXPECT_ERR("makeCredential without UV under alwaysUv", FIDO_ERR_PIN_REQUIRED /* 0x36, PUAT_REQUIRED in CTAP 2.1 */, r);
		fido_cred_free(&c);
	}
	struct cred_opts o = { .rp = RP_C, .user_id = "uv-user", .user_name = "uv-user", .pin = PIN_OLD };
	fido_cred_t *c = make_cred(dev, &o);
	fido_cred_free(&c);
	CHECK("fido_dev_toggle_always_uv off", fido_dev_toggle_always_uv(dev, PIN_OLD));
	EXPECT("getInfo alwaysUv == false", info_option(dev, "alwaysUv", NULL) == 0);
	printf("ok config toggleAlwaysUv on/off (getInfo alwaysUv follows, makeCredential without UV refused while on)\n");

	/*
	 * Minimum PIN length: raised to 10, reported by getInfo, never lowered again (checked in
	 * step_change_pin). The current PIN (11 code points) satisfies 10: CTAP 2.1 §6.11.4 forces
	 * a PIN change only when the stored PINCodePointLength is below the new minimum (OpenSK
	 * does the same), while a key that does not remember the length (this virtual key with a
	 * state file from before it kept pinCodePoints) forces it whenever the minimum rises.
	 * Either is accepted here; the forced path is then exercised explicitly below.
	 */
	CHECK("fido_dev_set_pin_minlen 10", fido_dev_set_pin_minlen(dev, 10, PIN_OLD));
	info_option(dev, "clientPin", &ci);
	EXPECT("getInfo minPINLength == 10", fido_cbor_info_minpinlen(ci) == 10);
	bool forced = fido_cbor_info_new_pin_required(ci);
	fido_cbor_info_free(&ci);
	printf("ok config setMinPINLength 10 (getInfo minPINLength=10 forcePINChange=%s)\n", forced ? "true" : "false");

	/* forceChangePin (when setMinPINLength did not already force it): getInfo reports it. */
	if (!forced)
		CHECK("fido_dev_force_pin_change", fido_dev_force_pin_change(dev, PIN_OLD));
	info_option(dev, "clientPin", &ci);
	EXPECT("getInfo forcePINChange == true", fido_cbor_info_new_pin_required(ci));
	fido_cbor_info_free(&ci);
	/* While it is set no PIN token is issued (CTAP 2.1 §6.5.5.7), and the same PIN is no change. */
	EXPECT_ERR("a PIN token while forcePINChange", FIDO_ERR_PIN_POLICY_VIOLATION, fido_dev_set_pin_minlen(dev, 12, PIN_OLD));
	EXPECT_ERR("changing to the same PIN while forcePINChange", FIDO_ERR_PIN_POLICY_VIOLATION, fido_dev_set_pin(dev, PIN_OLD, PIN_OLD));
	printf("ok config forcePINChange (PIN tokens refused until the PIN changes)\n");
}

static void
step_change_pin(fido_dev_t *dev, const fido_cred_t *probe)
{
	int before, after, restored;
	fido_assert_t *a = NULL;

	EXPECT_ERR("a new PIN shorter than minPINLength", FIDO_ERR_PIN_POLICY_VIOLATION, fido_dev_set_pin(dev, "123456789", PIN_OLD));
	CHECK("fido_dev_set_pin old -> new", fido_dev_set_pin(dev, PIN_NEW, PIN_OLD));
	CHECK("retry count", fido_dev_get_retry_count(dev, &before));
	EXPECT_ERR("getAssertion with the old PIN", FIDO_ERR_PIN_INVALID, get_assert(dev, RP_C, probe, true, PIN_OLD, 0, NULL, NULL));
	CHECK("retry count", fido_dev_get_retry_count(dev, &after));
	EXPECT("the old PIN costs a retry", after == before - 1);
	CHECK("getAssertion with the new PIN", get_assert(dev, RP_C, probe, true, PIN_NEW, 0, NULL, &a));
	EXPECT("UV flag with the new PIN", (fido_assert_flags(a, 0) & 0x04) != 0);
	fido_assert_free(&a);
	CHECK("retry count", fido_dev_get_retry_count(dev, &restored));
	EXPECT("the new PIN restores the retry count", restored == before);
	fido_cbor_info_t *ci = NULL;
	info_option(dev, "clientPin", &ci);
	EXPECT("forcePINChange cleared by the change", !fido_cbor_info_new_pin_required(ci));
	fido_cbor_info_free(&ci);
	EXPECT_ERR("lowering minPINLength", FIDO_ERR_PIN_POLICY_VIOLATION, fido_dev_set_pin_minlen(dev, 6, PIN_NEW));
	printf("ok changePIN old PIN refused (retries %d -> %d), new PIN works, minPINLength not lowered\n", before, after);
}

static void
step_reset(fido_dev_t *dev, bool allowed)
{
	fido_cbor_info_t *ci = NULL;

	if (!allowed) {
		/* CTAP 2.1 §6.6: reset only within 10 s of power-up, else CTAP2_ERR_NOT_ALLOWED. */
		EXPECT_ERR("fido_dev_reset after the reset window", FIDO_ERR_NOT_ALLOWED, fido_dev_reset(dev));
		EXPECT("the PIN survives a refused reset", info_option(dev, "clientPin", NULL) == 1);
		EXPECT("credentials survive a refused reset", rk_existing(dev, PIN_NEW, NULL) > 0);
		printf("ok reset refused outside the reset window (FIDO_ERR_NOT_ALLOWED)\n");
		return;
	}
	CHECK("fido_dev_reset", fido_dev_reset(dev));
	EXPECT("no PIN after reset", info_option(dev, "clientPin", &ci) == 0);
	EXPECT("minPINLength back to 4", fido_cbor_info_minpinlen(ci) == 4);
	fido_cbor_info_free(&ci);
	EXPECT("alwaysUv off after reset", info_option(dev, "alwaysUv", NULL) == 0);
	EXPECT("ep off after reset", info_option(dev, "ep", NULL) == 0);
	EXPECT_ERR("no credential for " RP_A " after reset", FIDO_ERR_NO_CREDENTIALS, get_assert(dev, RP_A, NULL, false, NULL, 0, NULL, NULL));
	printf("ok reset wipes credentials, PIN and config\n");
}

int
main(int argc, char **argv)
{
	fido_dev_t *dev;
	uint64_t capacity;
	bool reset_allowed;

	if (argc != 5 || (strcmp(argv[4], "allowed") != 0 && strcmp(argv[4], "refused") != 0)) {
		fprintf(stderr, "usage: %s HOST PORT CAPACITY allowed|refused\n", argv[0]);
		return 2;
	}
	capacity = strtoull(argv[3], NULL, 10);
	reset_allowed = strcmp(argv[4], "allowed") == 0;
	random_bytes(cdh, sizeof(cdh));

	fido_init(0);
	if ((dev = udp_io_open_dev(argv[1], atoi(argv[2]))) == NULL)
		return 1;
	EXPECT("fido_dev_is_fido2", fido_dev_is_fido2(dev));
	EXPECT("credMgmt advertised", fido_dev_supports_credman(dev));
	EXPECT("credProtect advertised", fido_dev_supports_cred_prot(dev));
	CHECK("fido_dev_set_pin", fido_dev_set_pin(dev, PIN_OLD, NULL));
	printf("ok setPIN\n");

	step_credman(dev, capacity);
	step_largeblob(dev);
	step_hmac_secret(dev);
	step_cred_protect(dev);
	step_cred_blob(dev);
	/* A non-resident credential to probe PINs with after the change. */
	struct cred_opts o = { .rp = RP_C, .user_id = "probe", .user_name = "probe" };
	fido_cred_t *probe = make_cred(dev, &o);
	step_config(dev);
	step_change_pin(dev, probe);
	fido_cred_free(&probe);

	step_reset(dev, reset_allowed);

	fido_dev_close(dev);
	fido_dev_free(&dev);
	printf("interop: all steps passed\n");
	return 0;
}
