/*
 * libfido2 drives a U2F-only authenticator (`ctap virtual serve --udp ... --u2f-only`).
 * The key answers CTAPHID INIT without the CBOR capability, so libfido2 treats it as a
 * U2F device and performs makeCredential / getAssertion through its CTAP1 fallback
 * (u2f.c: U2F_REGISTER / U2F_AUTHENTICATE APDUs over CTAPHID_MSG). Checked: the fido-u2f
 * attestation verifies (fido_cred_verify), assertions verify (fido_assert_verify) with a
 * rising counter, a key handle from another app id is not accepted, and CTAP2-only
 * requests (a resident key) are refused by libfido2 for a U2F device.
 * Prints one "ok <step>" line per step; exits non-zero on the first failure.
 *
 * Build: cc libfido2_u2f.c $(pkg-config --cflags --libs libfido2) -o libfido2_u2f
 * Usage: libfido2_u2f HOST PORT
 */
#include <fido.h>
#include <fido/es256.h>

#include "udp_io.h"

#define RP_ID "u2f.example.com"

static void
fail(const char *what, int r)
{
	fprintf(stderr, "FAIL %s: %s (%d)\n", what, fido_strerr(r), r);
	exit(1);
}

#define CHECK(what, expr) do { int r_ = (expr); if (r_ != FIDO_OK) fail(what, r_); } while (0)
#define EXPECT(what, cond) do { if (!(cond)) { fprintf(stderr, "FAIL %s\n", what); exit(1); } } while (0)
#define EXPECT_ERR(what, want, expr) do { int r_ = (expr); if (r_ != (want)) { \
	fprintf(stderr, "FAIL %s: expected %s, got %s (%d)\n", what, fido_strerr(want), fido_strerr(r_), r_); exit(1); } } while (0)

static unsigned char cdh[32];

static fido_cred_t *
new_cred(const char *rp, const char *user, bool rk)
{
	fido_cred_t *cred = fido_cred_new();
	if (cred == NULL)
		fail("fido_cred_new", FIDO_ERR_INTERNAL);
	CHECK("cred type", fido_cred_set_type(cred, COSE_ES256));
	CHECK("cred cdh", fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)));
	CHECK("cred rp", fido_cred_set_rp(cred, rp, NULL));
	CHECK("cred user", fido_cred_set_user(cred, (const unsigned char *)user, strlen(user), user, NULL, NULL));
	CHECK("cred rk", fido_cred_set_rk(cred, rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT));
	return cred;
}

/* getAssertion over U2F with cred in the allow list; returns libfido2's status. */
static int
assert_with(fido_dev_t *dev, const char *rp, const fido_cred_t *cred, fido_assert_t **out)
{
	fido_assert_t *a = fido_assert_new();
	int r;
	CHECK("assert cdh", fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)));
	CHECK("assert rp", fido_assert_set_rp(a, rp));
	CHECK("assert allow", fido_assert_allow_cred(a, fido_cred_id_ptr(cred), fido_cred_id_len(cred)));
	r = fido_dev_get_assert(dev, a, NULL);
	if (r == FIDO_OK && out != NULL)
		*out = a;
	else
		fido_assert_free(&a);
	return r;
}

int
main(int argc, char **argv)
{
	fido_dev_t *dev;
	es256_pk_t *pk;
	fido_assert_t *a1 = NULL, *a2 = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cdh); i++)
		cdh[i] = (unsigned char)(0xa5 ^ i);
	fido_init(0);
	if ((dev = udp_io_open_dev(argv[1], atoi(argv[2]))) == NULL)
		return 1;
	EXPECT("the key is not CTAP2 (no CBOR capability)", !fido_dev_is_fido2(dev));
	printf("ok open U2F-only (fido_dev_is_fido2=false)\n");

	/* Register through U2F_REGISTER: fido-u2f attestation, verified by libfido2. */
	fido_cred_t *cred = new_cred(RP_ID, "u2f-user", false);
	CHECK("fido_dev_make_cred (U2F)", fido_dev_make_cred(dev, cred, NULL));
	EXPECT("fmt fido-u2f", strcmp(fido_cred_fmt(cred), "fido-u2f") == 0);
	CHECK("fido_cred_verify (fido-u2f attestation)", fido_cred_verify(cred));
	EXPECT("attestation certificate present", fido_cred_x5c_len(cred) > 0);
	printf("ok makeCredential over U2F fmt=%s credIdLen=%zu\n", fido_cred_fmt(cred), fido_cred_id_len(cred));

	/* Authenticate twice through U2F_AUTHENTICATE; signatures verify, the counter rises. */
	pk = es256_pk_new();
	CHECK("es256_pk_from_ptr", es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)));
	CHECK("fido_dev_get_assert (U2F) 1", assert_with(dev, RP_ID, cred, &a1));
	CHECK("fido_assert_verify 1", fido_assert_verify(a1, 0, COSE_ES256, pk));
	EXPECT("UP flag", (fido_assert_flags(a1, 0) & 0x01) != 0);
	CHECK("fido_dev_get_assert (U2F) 2", assert_with(dev, RP_ID, cred, &a2));
	CHECK("fido_assert_verify 2", fido_assert_verify(a2, 0, COSE_ES256, pk));
	EXPECT("counter rises", fido_assert_sigcount(a2, 0) > fido_assert_sigcount(a1, 0));
	printf("ok getAssertion over U2F verified, counter %u -> %u\n", fido_assert_sigcount(a1, 0), fido_assert_sigcount(a2, 0));

	/* A tampered signature must not verify (the check above can fail). */
	{
		fido_assert_t *bad = fido_assert_new();
		unsigned char sig[128];
		size_t n = fido_assert_sig_len(a2, 0);
		EXPECT("signature length", n > 0 && n <= sizeof(sig));
		memcpy(sig, fido_assert_sig_ptr(a2, 0), n);
		sig[n - 1] ^= 0x01;
		CHECK("bad cdh", fido_assert_set_clientdata_hash(bad, cdh, sizeof(cdh)));
		CHECK("bad rp", fido_assert_set_rp(bad, RP_ID));
		CHECK("bad count", fido_assert_set_count(bad, 1));
		CHECK("bad authdata", fido_assert_set_authdata(bad, 0, fido_assert_authdata_ptr(a2, 0), fido_assert_authdata_len(a2, 0)));
		CHECK("bad sig", fido_assert_set_sig(bad, 0, sig, n));
		EXPECT("a tampered signature fails fido_assert_verify", fido_assert_verify(bad, 0, COSE_ES256, pk) != FIDO_OK);
		fido_assert_free(&bad);
	}
	printf("ok tampered signature rejected\n");

	/* The key handle is bound to its app id: under another RP it is not recognised. */
	EXPECT_ERR("key handle under another app id", FIDO_ERR_NO_CREDENTIALS, assert_with(dev, "other.example.com", cred, NULL));
	printf("ok key handle bound to its app id\n");

	/* A resident key needs CTAP2: libfido2 refuses it for a U2F device. */
	fido_cred_t *rk = new_cred(RP_ID, "u2f-rk", true);
	EXPECT_ERR("resident key on a U2F-only key", FIDO_ERR_UNSUPPORTED_OPTION, fido_dev_make_cred(dev, rk, NULL));
	fido_cred_free(&rk);
	printf("ok resident key refused on U2F\n");

	fido_assert_free(&a1);
	fido_assert_free(&a2);
	es256_pk_free(&pk);
	fido_cred_free(&cred);
	fido_dev_close(dev);
	fido_dev_free(&dev);
	printf("interop: all steps passed\n");
	return 0;
}
