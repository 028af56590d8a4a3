/*
 * A stand-in for Windows' webauthn.dll, built with gcc by the tests (never
 * committed as a binary). Same exports, same struct layouts
 * (webauthn-types.h). It
 *   - records every call as one JSON line in $WEBAUTHN_STUB_RECORD, with
 *     UTF-16 strings decoded and byte strings in hex, reading each input
 *     struct only up to its own dwVersion (as Windows does);
 *   - rejects a NULL window handle and a struct dwVersion newer than the
 *     API version it plays ($WEBAUTHN_STUB_API_VERSION, default 9) with
 *     E_INVALIDARG;
 *   - returns results sized exactly to the struct version of that API level,
 *     placed so the struct ends where a PROT_NONE page begins: reading past
 *     dwVersion crashes the caller;
 *   - returns canned bytes from $WEBAUTHN_STUB_CANNED (lines "key=hex") so
 *     tests can hand it real attestation objects and assertions;
 *   - returns $WEBAUTHN_STUB_HRESULT (hex) instead of a result when set;
 *   - with $WEBAUTHN_STUB_BLOCK=1 blocks until WebAuthNCancelCurrentOperation
 *     is called with the call's cancellation id, then fails with
 *     NTE_USER_CANCELLED;
 *   - records every free, and whether the pointer was one it handed out.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stddef.h>
#include <unistd.h>
#include "webauthn-types.h"

#define EXPORT __attribute__((visibility("default")))
#define S_OK 0
#define E_INVALIDARG ((HRESULT)0x80070057)
#define NTE_USER_CANCELLED ((HRESULT)0x80090036)
#define NTE_NOT_FOUND ((HRESULT)0x80090011)

/* ---------- configuration ---------- */
static DWORD api_version(void) {
  const char *v = getenv("WEBAUTHN_STUB_API_VERSION");
  int n = v ? atoi(v) : 9;
  return n < 1 ? 1 : (DWORD)n;
}
/* Struct versions per API version (webauthn.h "API Version Information"). */
static const DWORD MC_BY_API[10] = {0, 3, 3, 4, 5, 5, 6, 7, 8, 9};
static const DWORD GA_BY_API[10] = {0, 4, 4, 5, 6, 6, 6, 7, 8, 9};
static const DWORD ATT_BY_API[10] = {0, 3, 3, 4, 4, 4, 5, 6, 7, 8};
static const DWORD ASN_BY_API[10] = {0, 1, 1, 2, 3, 3, 4, 5, 5, 6};
static DWORD by_api(const DWORD *t) { DWORD a = api_version(); return t[a > 9 ? 9 : a]; }

/* ---------- JSON line builder ---------- */
typedef struct { char *p; size_t n, cap; } buf_t;
static void put(buf_t *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) { b->cap = (b->n + n + 1) * 2; b->p = realloc(b->p, b->cap); }
  memcpy(b->p + b->n, s, n); b->n += n; b->p[b->n] = 0;
}
static void putf(buf_t *b, const char *fmt, ...) {
  char tmp[256]; va_list ap; va_start(ap, fmt); int n = vsnprintf(tmp, sizeof tmp, fmt, ap); va_end(ap);
  put(b, tmp, (size_t)n);
}
static void put_hex(buf_t *b, const uint8_t *p, size_t n) {
  put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) putf(b, "%02x", p[i]);
  put(b, "\"", 1);
}
static void put_cp(buf_t *b, uint32_t cp) {
  char o[5]; int n = 0;
  if (cp == '"' || cp == '\\') { o[0] = '\\'; o[1] = (char)cp; n = 2; }
  else if (cp < 0x20) { putf(b, "\\u%04x", cp); return; }
  else if (cp < 0x80) { o[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
  else if (cp < 0x10000) { o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f)); n = 3; }
  else { o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); n = 4; }
  put(b, o, (size_t)n);
}
/* UTF-16 (NUL-terminated) → JSON string; null for a NULL pointer. */
static void put_w(buf_t *b, PCWSTR s) {
  if (!s) { put(b, "null", 4); return; }
  put(b, "\"", 1);
  for (size_t i = 0; s[i]; i++) {
    uint32_t c = s[i];
    if (c >= 0xd800 && c < 0xdc00 && s[i + 1] >= 0xdc00 && s[i + 1] < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (s[i + 1] - 0xdc00); i++; }
    put_cp(b, c);
  }
  put(b, "\"", 1);
}
static void put_bytes(buf_t *b, DWORD n, const uint8_t *p) { if (!p) put(b, "null", 4); else put_hex(b, p, n); }

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static void emit(buf_t *b) {
  const char *path = getenv("WEBAUTHN_STUB_RECORD");
  pthread_mutex_lock(&rec_lock);
  if (path) { FILE *f = fopen(path, "a"); if (f) { fprintf(f, "%s\n", b->p); fclose(f); } }
  pthread_mutex_unlock(&rec_lock);
  free(b->p); b->p = NULL; b->n = b->cap = 0;
}

/* ---------- canned results ---------- */
typedef struct { uint8_t *p; DWORD n; } bytes_t;
static bytes_t canned(const char *key) {
  bytes_t r = {NULL, 0};
  const char *path = getenv("WEBAUTHN_STUB_CANNED");
  if (!path) return r;
  FILE *f = fopen(path, "r");
  if (!f) return r;
  size_t klen = strlen(key); char *line = NULL; size_t cap = 0; ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    if ((size_t)len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
      const char *h = line + klen + 1; size_t hl = strcspn(h, "\r\n");
      r.n = (DWORD)(hl / 2); r.p = malloc(r.n ? r.n : 1);
      for (DWORD i = 0; i < r.n; i++) { unsigned v; sscanf(h + 2 * i, "%2x", &v); r.p[i] = (uint8_t)v; }
      break;
    }
  }
  free(line); fclose(f);
  return r;
}
static uint8_t *dup_bytes(const uint8_t *p, DWORD n) { uint8_t *d = malloc(n ? n : 1); if (n) memcpy(d, p, n); return d; }
static uint16_t *wdup(const char *ascii) {
  size_t n = strlen(ascii); uint16_t *w = malloc((n + 1) * 2);
  for (size_t i = 0; i <= n; i++) w[i] = (uint8_t)ascii[i];
  return w;
}

/* ---------- guarded result allocation ---------- */
/* Places `size` bytes so that they end exactly where a PROT_NONE page starts. */
typedef struct live { void *base; size_t maplen; void *obj; int kind; struct live *next; } live_t;
static live_t *lives; static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static void *guarded(size_t size, int kind) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t body = (size + page - 1) / page * page;
  uint8_t *m = mmap(NULL, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  mprotect(m + body, page, PROT_NONE);
  /* size is a multiple of 4 (DWORD/BOOL end) and every version ends on a 4- or 8-byte boundary */
  uint8_t *obj = m + body - size;
  memset(obj, 0, size);
  live_t *l = malloc(sizeof *l); l->base = m; l->maplen = body + page; l->obj = obj; l->kind = kind;
  pthread_mutex_lock(&live_lock); l->next = lives; lives = l; pthread_mutex_unlock(&live_lock);
  return obj;
}
static int release(void *obj, int kind) {
  pthread_mutex_lock(&live_lock);
  for (live_t **pp = &lives; *pp; pp = &(*pp)->next) {
    if ((*pp)->obj == obj && (*pp)->kind == kind) {
      live_t *l = *pp; *pp = l->next; pthread_mutex_unlock(&live_lock);
      munmap(l->base, l->maplen); free(l); return 1;
    }
  }
  pthread_mutex_unlock(&live_lock);
  return 0;
}
#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
static size_t attestation_size(DWORD v) {
  typedef WEBAUTHN_CREDENTIAL_ATTESTATION T;
  switch (v) {
    case 1: return END_OF(T, pbCredentialId); case 2: return END_OF(T, Extensions); case 3: return END_OF(T, dwUsedTransport);
    case 4: return END_OF(T, bResidentKey); case 5: return END_OF(T, bPrfEnabled); case 6: return END_OF(T, pbUnsignedExtensionOutputs);
    case 7: return END_OF(T, bThirdPartyPayment); default: return sizeof(T);
  }
}
static size_t assertion_size(DWORD v) {
  typedef WEBAUTHN_ASSERTION T;
  switch (v) {
    case 1: return END_OF(T, pbUserId); case 2: return END_OF(T, dwCredLargeBlobStatus); case 3: return END_OF(T, pHmacSecret);
    case 4: return END_OF(T, dwUsedTransport); case 5: return END_OF(T, pbUnsignedExtensionOutputs); default: return sizeof(T);
  }
}

/* ---------- cancellation ---------- */
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cancel_cond = PTHREAD_COND_INITIALIZER;
static GUID cancelled[64]; static int n_cancelled; static uint32_t guid_counter;
static int is_cancelled(const GUID *g) {
  for (int i = 0; i < n_cancelled; i++) if (memcmp(&cancelled[i], g, sizeof *g) == 0) return 1;
  return 0;
}
/* Returns S_OK, or NTE_USER_CANCELLED once the call's id has been cancelled (blocking mode). */
static HRESULT maybe_block(const char *call, const GUID *id) {
  const char *blk = getenv("WEBAUTHN_STUB_BLOCK");
  if (!blk || strcmp(blk, "1") != 0) return S_OK;
  buf_t b = {0}; putf(&b, "{\"call\":\"Blocking\",\"in\":\"%s\",\"hasCancellationId\":%s}", call, id ? "true" : "false"); emit(&b);
  if (!id) return NTE_USER_CANCELLED; /* nothing could ever cancel it: fail rather than hang the tests */
  pthread_mutex_lock(&cancel_lock);
  while (!is_cancelled(id)) pthread_cond_wait(&cancel_cond, &cancel_lock);
  pthread_mutex_unlock(&cancel_lock);
  return NTE_USER_CANCELLED;
}

/* ---------- shared recorders ---------- */
static void put_client_data(buf_t *b, const WEBAUTHN_CLIENT_DATA *cd) {
  if (!cd) { put(b, "null", 4); return; }
  putf(b, "{\"version\":%u,\"json\":", cd->dwVersion); put_bytes(b, cd->cbClientDataJSON, cd->pbClientDataJSON);
  put(b, ",\"hashAlg\":", 11); put_w(b, cd->pwszHashAlgId); put(b, "}", 1);
}
static void put_cred_list(buf_t *b, const WEBAUTHN_CREDENTIAL_LIST *l) {
  if (!l) { put(b, "null", 4); return; }
  put(b, "[", 1);
  for (DWORD i = 0; i < l->cCredentials; i++) {
    const WEBAUTHN_CREDENTIAL_EX *c = l->ppCredentials[i];
    if (i) put(b, ",", 1);
    putf(b, "{\"version\":%u,\"id\":", c->dwVersion); put_bytes(b, c->cbId, c->pbId);
    put(b, ",\"type\":", 8); put_w(b, c->pwszCredentialType); putf(b, ",\"transports\":%u}", c->dwTransports);
  }
  put(b, "]", 1);
}
static void put_creds(buf_t *b, const WEBAUTHN_CREDENTIALS *l) {
  put(b, "[", 1);
  for (DWORD i = 0; i < l->cCredentials; i++) {
    if (i) put(b, ",", 1);
    put(b, "{\"id\":", 6); put_bytes(b, l->pCredentials[i].cbId, l->pCredentials[i].pbId); put(b, "}", 1);
  }
  put(b, "]", 1);
}
static int wstr_eq(PCWSTR w, const char *a) {
  if (!w) return 0;
  size_t i = 0; for (; a[i]; i++) if (w[i] != (uint8_t)a[i]) return 0;
  return w[i] == 0;
}
static void put_salt(buf_t *b, const WEBAUTHN_HMAC_SECRET_SALT *s) {
  if (!s) { put(b, "null", 4); return; }
  put(b, "{\"first\":", 9); put_bytes(b, s->cbFirst, s->pbFirst); put(b, ",\"second\":", 10); put_bytes(b, s->cbSecond, s->pbSecond); put(b, "}", 1);
}
/* Extensions in: each decoded by identifier as webauthn.h defines its input type. */
static void put_extensions(buf_t *b, const WEBAUTHN_EXTENSIONS *e) {
  put(b, "[", 1);
  for (DWORD i = 0; i < e->cExtensions; i++) {
    const WEBAUTHN_EXTENSION *x = &e->pExtensions[i];
    if (i) put(b, ",", 1);
    put(b, "{\"id\":", 6); put_w(b, x->pwszExtensionIdentifier); putf(b, ",\"size\":%u", x->cbExtension);
    if (wstr_eq(x->pwszExtensionIdentifier, "credProtect") && x->cbExtension == sizeof(WEBAUTHN_CRED_PROTECT_EXTENSION_IN)) {
      const WEBAUTHN_CRED_PROTECT_EXTENSION_IN *c = x->pvExtension;
      putf(b, ",\"credProtect\":%u,\"requireCredProtect\":%s", c->dwCredProtect, c->bRequireCredProtect ? "true" : "false");
    } else if (wstr_eq(x->pwszExtensionIdentifier, "credBlob") && x->cbExtension == sizeof(WEBAUTHN_CRED_BLOB_EXTENSION)) {
      const WEBAUTHN_CRED_BLOB_EXTENSION *c = x->pvExtension;
      put(b, ",\"credBlob\":", 12); put_bytes(b, c->cbCredBlob, c->pbCredBlob);
    } else if (x->cbExtension == sizeof(BOOL)) {
      putf(b, ",\"bool\":%s", *(const BOOL *)x->pvExtension ? "true" : "false");
    }
    put(b, "}", 1);
  }
  put(b, "]", 1);
}
static void put_hints(buf_t *b, DWORD n, PCWSTR *h) {
  put(b, "[", 1);
  for (DWORD i = 0; i < n; i++) { if (i) put(b, ",", 1); put_w(b, h[i]); }
  put(b, "]", 1);
}
static int requested_ext(const WEBAUTHN_EXTENSIONS *e, const char *id, const WEBAUTHN_EXTENSION **out) {
  for (DWORD i = 0; i < e->cExtensions; i++)
    if (wstr_eq(e->pExtensions[i].pwszExtensionIdentifier, id)) { if (out) *out = &e->pExtensions[i]; return 1; }
  return 0;
}
static HRESULT configured_error(void) {
  const char *h = getenv("WEBAUTHN_STUB_HRESULT");
  return h && *h ? (HRESULT)strtoul(h, NULL, 16) : S_OK;
}
/* Refuses the call: records why (closing `open` nested JSON objects) and returns E_INVALIDARG. */
static HRESULT reject_at(buf_t *b, int open, const char *why) {
  for (int i = 1; i < open; i++) put(b, "}", 1); /* "rejected" goes at the top level of the call record */
  putf(b, ",\"rejected\":\"%s\"}", why);
  emit(b); return E_INVALIDARG;
}
static HRESULT reject(buf_t *b, const char *why) { return reject_at(b, 1, why); }
static WEBAUTHN_HMAC_SECRET_SALT *canned_hmac(int want_second) {
  bytes_t f = canned("hmacFirst"), s = canned("hmacSecond");
  if (!f.p) { f.n = 32; f.p = malloc(32); memset(f.p, 0xa1, 32); }
  WEBAUTHN_HMAC_SECRET_SALT *r = calloc(1, sizeof *r);
  r->cbFirst = f.n; r->pbFirst = f.p;
  if (want_second) { if (!s.p) { s.n = 32; s.p = malloc(32); memset(s.p, 0xb2, 32); } r->cbSecond = s.n; r->pbSecond = s.p; }
  else free(s.p);
  return r;
}

/* ---------- exports ---------- */
EXPORT DWORD WebAuthNGetApiVersionNumber(void) { return api_version(); }

EXPORT HRESULT WebAuthNIsUserVerifyingPlatformAuthenticatorAvailable(BOOL *out) {
  if (!out) return E_INVALIDARG;
  *out = 0; return S_OK;
}

EXPORT HRESULT WebAuthNGetCancellationId(GUID *out) {
  if (!out) return E_INVALIDARG;
  pthread_mutex_lock(&cancel_lock); uint32_t n = ++guid_counter; pthread_mutex_unlock(&cancel_lock);
  memset(out, 0, sizeof *out); memcpy(out->b, "stubguid", 8); memcpy(out->b + 12, &n, 4);
  buf_t b = {0}; put(&b, "{\"call\":\"GetCancellationId\",\"id\":", 33); put_hex(&b, out->b, 16); put(&b, "}", 1); emit(&b);
  return S_OK;
}

EXPORT HRESULT WebAuthNCancelCurrentOperation(const GUID *id) {
  if (!id) return E_INVALIDARG;
  pthread_mutex_lock(&cancel_lock);
  if (n_cancelled < 64) cancelled[n_cancelled++] = *id;
  pthread_cond_broadcast(&cancel_cond);
  pthread_mutex_unlock(&cancel_lock);
  buf_t b = {0}; put(&b, "{\"call\":\"CancelCurrentOperation\",\"id\":", 38); put_hex(&b, id->b, 16); put(&b, "}", 1); emit(&b);
  return S_OK;
}

static uint16_t *error_names[6];
static void init_error_names(void) {
  static const char *ascii[6] = {"Success", "InvalidStateError", "ConstraintError", "NotSupportedError", "NotAllowedError", "UnknownError"};
  for (int i = 0; i < 6; i++) error_names[i] = wdup(ascii[i]);
}
/* The table in webauthn.h's comment on WebAuthNGetErrorName. */
EXPORT PCWSTR WebAuthNGetErrorName(HRESULT hr) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  uint16_t **names = error_names;
  pthread_once(&once, init_error_names);
  switch ((uint32_t)hr) {
    case 0: return names[0];
    case 0x8009000F: return names[1];                                     /* NTE_EXISTS */
    case 0x80070032: case 0x80090029: case 0x80090023: return names[2];   /* ERROR_NOT_SUPPORTED, NTE_NOT_SUPPORTED, NTE_TOKEN_KEYSET_STORAGE_FULL */
    case 0x80090027: return names[3];                                     /* NTE_INVALID_PARAMETER */
    case 0x80090035: case 0x80090011: case 0x800704C7: case 0x80090036: case 0x800705B4: return names[4];
    default: return names[5];
  }
}

EXPORT HRESULT WebAuthNAuthenticatorMakeCredential(HWND hWnd, const WEBAUTHN_RP_ENTITY_INFORMATION *rp,
    const WEBAUTHN_USER_ENTITY_INFORMATION *user, const WEBAUTHN_COSE_CREDENTIAL_PARAMETERS *params,
    const WEBAUTHN_CLIENT_DATA *cd, const WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS *o,
    WEBAUTHN_CREDENTIAL_ATTESTATION **out) {
  buf_t b = {0};
  putf(&b, "{\"call\":\"MakeCredential\",\"apiVersion\":%u,\"hwnd\":\"%p\"", api_version(), hWnd);
  if (!out) return reject(&b, "NULL result pointer");
  *out = NULL;
  if (!hWnd) return reject(&b, "NULL window handle");
  if (!rp || !user || !params || !cd) return reject(&b, "NULL required argument");
  put(&b, ",\"rp\":{\"version\":", 17); putf(&b, "%u,\"id\":", rp->dwVersion); put_w(&b, rp->pwszId);
  put(&b, ",\"name\":", 8); put_w(&b, rp->pwszName); put(&b, ",\"icon\":", 8); put_w(&b, rp->pwszIcon); put(&b, "}", 1);
  putf(&b, ",\"user\":{\"version\":%u,\"id\":", user->dwVersion); put_bytes(&b, user->cbId, user->pbId);
  put(&b, ",\"name\":", 8); put_w(&b, user->pwszName); put(&b, ",\"displayName\":", 15); put_w(&b, user->pwszDisplayName); put(&b, "}", 1);
  put(&b, ",\"params\":[", 11);
  for (DWORD i = 0; i < params->cCredentialParameters; i++) {
    if (i) put(&b, ",", 1);
    put(&b, "{\"type\":", 8); put_w(&b, params->pCredentialParameters[i].pwszCredentialType);
    putf(&b, ",\"alg\":%d,\"version\":%u}", params->pCredentialParameters[i].lAlg, params->pCredentialParameters[i].dwVersion);
  }
  put(&b, "],\"clientData\":", 15); put_client_data(&b, cd);
  if (!o) { put(&b, ",\"options\":null", 15); }
  else {
    DWORD v = o->dwVersion;
    putf(&b, ",\"options\":{\"version\":%u", v);
    if (v < 1 || v > by_api(MC_BY_API)) return reject_at(&b, 2, "MAKE_CREDENTIAL_OPTIONS dwVersion not supported by this API version");
    putf(&b, ",\"timeout\":%u,\"attachment\":%u,\"requireResidentKey\":%d,\"uv\":%u,\"attestation\":%u,\"flags\":%u",
         o->dwTimeoutMilliseconds, o->dwAuthenticatorAttachment, o->bRequireResidentKey, o->dwUserVerificationRequirement,
         o->dwAttestationConveyancePreference, o->dwFlags);
    put(&b, ",\"credentialList\":", 18); put_creds(&b, &o->CredentialList);
    put(&b, ",\"extensions\":", 14); put_extensions(&b, &o->Extensions);
    if (v >= 2) { put(&b, ",\"cancellationId\":", 18); if (o->pCancellationId) put_hex(&b, o->pCancellationId->b, 16); else put(&b, "null", 4); }
    if (v >= 3) { put(&b, ",\"excludeList\":", 15); put_cred_list(&b, o->pExcludeCredentialList); }
    if (v >= 4) putf(&b, ",\"enterpriseAttestation\":%u,\"largeBlobSupport\":%u,\"preferResidentKey\":%d", o->dwEnterpriseAttestation, o->dwLargeBlobSupport, o->bPreferResidentKey);
    if (v >= 5) putf(&b, ",\"browserInPrivateMode\":%d", o->bBrowserInPrivateMode);
    if (v >= 6) putf(&b, ",\"enablePrf\":%d", o->bEnablePrf);
    if (v >= 7) putf(&b, ",\"linkedDevice\":%s,\"cbJsonExt\":%u", o->pLinkedDevice ? "true" : "false", o->cbJsonExt);
    if (v >= 8) {
      put(&b, ",\"prfGlobalEval\":", 17); put_salt(&b, o->pPRFGlobalEval);
      put(&b, ",\"hints\":", 9); put_hints(&b, o->cCredentialHints, o->ppwszCredentialHints);
      putf(&b, ",\"thirdPartyPayment\":%d", o->bThirdPartyPayment);
    }
    if (v >= 9) { put(&b, ",\"remoteWebOrigin\":", 19); put_w(&b, o->pwszRemoteWebOrigin); putf(&b, ",\"cbAuthenticatorId\":%u", o->cbAuthenticatorId); }
    put(&b, "}", 1);
  }
  put(&b, "}", 1); emit(&b);

  HRESULT hr = maybe_block("MakeCredential", o && o->dwVersion >= 2 ? o->pCancellationId : NULL);
  if (hr == S_OK) hr = configured_error();
  if (hr != S_OK) return hr;

  DWORD v = by_api(ATT_BY_API);
  WEBAUTHN_CREDENTIAL_ATTESTATION *a = guarded(attestation_size(v), 1);
  if (!a) return E_INVALIDARG;
  bytes_t ao = canned("attestationObject"), ad = canned("authenticatorData"), id = canned("credentialId"), st = canned("attStmt");
  bytes_t fmt = canned("fmt");
  char fmtbuf[32] = "none";
  if (fmt.p) { size_t n = fmt.n < 31 ? fmt.n : 31; memcpy(fmtbuf, fmt.p, n); fmtbuf[n] = 0; free(fmt.p); }
  a->dwVersion = v; a->pwszFormatType = wdup(fmtbuf);
  a->cbAuthenticatorData = ad.n; a->pbAuthenticatorData = ad.p;
  a->cbAttestation = st.n; a->pbAttestation = st.p;
  a->cbAttestationObject = ao.n; a->pbAttestationObject = ao.p;
  a->cbCredentialId = id.n; a->pbCredentialId = id.p;
  if (v >= 2 && o) {
    /* Echo outputs for the extensions that came in, typed as webauthn.h says. */
    WEBAUTHN_EXTENSION *outx = calloc(4, sizeof *outx); DWORD n = 0; const WEBAUTHN_EXTENSION *in;
    if (requested_ext(&o->Extensions, "hmac-secret", NULL)) { BOOL *t = malloc(4); *t = 1; outx[n++] = (WEBAUTHN_EXTENSION){wdup("hmac-secret"), 4, t}; }
    if (requested_ext(&o->Extensions, "credProtect", &in)) { DWORD *t = malloc(4); *t = ((const WEBAUTHN_CRED_PROTECT_EXTENSION_IN *)in->pvExtension)->dwCredProtect; outx[n++] = (WEBAUTHN_EXTENSION){wdup("credProtect"), 4, t}; }
    if (requested_ext(&o->Extensions, "credBlob", NULL)) { BOOL *t = malloc(4); *t = 1; outx[n++] = (WEBAUTHN_EXTENSION){wdup("credBlob"), 4, t}; }
    if (requested_ext(&o->Extensions, "minPinLength", NULL)) { DWORD *t = malloc(4); *t = 6; outx[n++] = (WEBAUTHN_EXTENSION){wdup("minPinLength"), 4, t}; }
    a->Extensions.cExtensions = n; a->Extensions.pExtensions = outx;
  }
  if (v >= 3) a->dwUsedTransport = 0x1; /* USB */
  if (v >= 4 && o) {
    a->bEpAtt = o->dwVersion >= 4 && o->dwEnterpriseAttestation != 0;
    a->bLargeBlobSupported = o->dwVersion >= 4 && o->dwLargeBlobSupport != 0;
    a->bResidentKey = o->bRequireResidentKey || (o->dwVersion >= 4 && o->bPreferResidentKey);
  }
  if (v >= 5 && o) a->bPrfEnabled = o->dwVersion >= 6 && o->bEnablePrf;
  if (v >= 7 && o && o->dwVersion >= 8 && o->pPRFGlobalEval) a->pHmacSecret = canned_hmac(o->pPRFGlobalEval->cbSecond > 0);
  if (v >= 8) {
    a->dwTransports = 0x1 | 0x2; /* usb, nfc */
    a->cbClientDataJSON = cd->cbClientDataJSON; a->pbClientDataJSON = dup_bytes(cd->pbClientDataJSON, cd->cbClientDataJSON);
  }
  *out = a;
  return S_OK;
}

EXPORT void WebAuthNFreeCredentialAttestation(WEBAUTHN_CREDENTIAL_ATTESTATION *a) {
  buf_t b = {0};
  int known = a ? 1 : 0;
  if (a) {
    DWORD v = a->dwVersion;
    free((void *)a->pwszFormatType); free(a->pbAuthenticatorData); free(a->pbAttestation); free(a->pbAttestationObject); free(a->pbCredentialId);
    if (v >= 2) { for (DWORD i = 0; i < a->Extensions.cExtensions; i++) { free((void *)a->Extensions.pExtensions[i].pwszExtensionIdentifier); free(a->Extensions.pExtensions[i].pvExtension); } free(a->Extensions.pExtensions); }
    if (v >= 7 && a->pHmacSecret) { free(a->pHmacSecret->pbFirst); free(a->pHmacSecret->pbSecond); free(a->pHmacSecret); }
    if (v >= 8) free(a->pbClientDataJSON);
    known = release(a, 1);
  }
  putf(&b, "{\"call\":\"FreeCredentialAttestation\",\"null\":%s,\"known\":%s}", a ? "false" : "true", known ? "true" : "false"); emit(&b);
}

EXPORT HRESULT WebAuthNAuthenticatorGetAssertion(HWND hWnd, PCWSTR rpId, const WEBAUTHN_CLIENT_DATA *cd,
    const WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS *o, WEBAUTHN_ASSERTION **out) {
  buf_t b = {0};
  putf(&b, "{\"call\":\"GetAssertion\",\"apiVersion\":%u,\"hwnd\":\"%p\"", api_version(), hWnd);
  if (!out) return reject(&b, "NULL result pointer");
  *out = NULL;
  if (!hWnd) return reject(&b, "NULL window handle");
  if (!rpId || !cd) return reject(&b, "NULL required argument");
  put(&b, ",\"rpId\":", 8); put_w(&b, rpId);
  put(&b, ",\"clientData\":", 14); put_client_data(&b, cd);
  int want_blob = 0, lb_op = 0, salts = 0, salt2 = 0;
  if (!o) { put(&b, ",\"options\":null", 15); }
  else {
    DWORD v = o->dwVersion;
    putf(&b, ",\"options\":{\"version\":%u", v);
    if (v < 1 || v > by_api(GA_BY_API)) return reject_at(&b, 2, "GET_ASSERTION_OPTIONS dwVersion not supported by this API version");
    putf(&b, ",\"timeout\":%u,\"attachment\":%u,\"uv\":%u,\"flags\":%u", o->dwTimeoutMilliseconds, o->dwAuthenticatorAttachment, o->dwUserVerificationRequirement, o->dwFlags);
    put(&b, ",\"credentialList\":", 18); put_creds(&b, &o->CredentialList);
    put(&b, ",\"extensions\":", 14); put_extensions(&b, &o->Extensions);
    want_blob = requested_ext(&o->Extensions, "credBlob", NULL);
    if (v >= 2) { put(&b, ",\"u2fAppId\":", 12); put_w(&b, o->pwszU2fAppId); putf(&b, ",\"hasU2fAppIdOut\":%s", o->pbU2fAppId ? "true" : "false"); }
    if (v >= 3) { put(&b, ",\"cancellationId\":", 18); if (o->pCancellationId) put_hex(&b, o->pCancellationId->b, 16); else put(&b, "null", 4); }
    if (v >= 4) { put(&b, ",\"allowList\":", 13); put_cred_list(&b, o->pAllowCredentialList); }
    if (v >= 5) { lb_op = (int)o->dwCredLargeBlobOperation; putf(&b, ",\"largeBlobOperation\":%u,\"largeBlob\":", o->dwCredLargeBlobOperation); put_bytes(&b, o->cbCredLargeBlob, o->pbCredLargeBlob); }
    if (v >= 6) {
      put(&b, ",\"hmacSecretSaltValues\":", 24);
      const WEBAUTHN_HMAC_SECRET_SALT_VALUES *s = o->pHmacSecretSaltValues;
      if (!s) put(&b, "null", 4);
      else {
        put(&b, "{\"global\":", 10); put_salt(&b, s->pGlobalHmacSalt); put(&b, ",\"byCredential\":[", 17);
        for (DWORD i = 0; i < s->cCredWithHmacSecretSaltList; i++) {
          if (i) put(&b, ",", 1);
          put(&b, "{\"id\":", 6); put_bytes(&b, s->pCredWithHmacSecretSaltList[i].cbCredID, s->pCredWithHmacSecretSaltList[i].pbCredID);
          put(&b, ",\"salt\":", 8); put_salt(&b, s->pCredWithHmacSecretSaltList[i].pHmacSecretSalt); put(&b, "}", 1);
        }
        put(&b, "]}", 2);
        salts = s->pGlobalHmacSalt != NULL || s->cCredWithHmacSecretSaltList > 0;
        salt2 = s->pGlobalHmacSalt && s->pGlobalHmacSalt->cbSecond > 0;
      }
      putf(&b, ",\"browserInPrivateMode\":%d", o->bBrowserInPrivateMode);
    }
    if (v >= 7) putf(&b, ",\"autoFill\":%d,\"cbJsonExt\":%u", o->bAutoFill, o->cbJsonExt);
    if (v >= 8) { put(&b, ",\"hints\":", 9); put_hints(&b, o->cCredentialHints, o->ppwszCredentialHints); }
    if (v >= 9) { put(&b, ",\"remoteWebOrigin\":", 19); put_w(&b, o->pwszRemoteWebOrigin); }
    put(&b, "}", 1);
  }
  put(&b, "}", 1); emit(&b);

  HRESULT hr = maybe_block("GetAssertion", o && o->dwVersion >= 3 ? o->pCancellationId : NULL);
  if (hr == S_OK) hr = configured_error();
  if (hr != S_OK) return hr;
  if (o && o->dwVersion >= 2 && o->pwszU2fAppId && o->pbU2fAppId) {
    const char *used = getenv("WEBAUTHN_STUB_APPID_USED");
    *o->pbU2fAppId = used && strcmp(used, "1") == 0;
  }

  DWORD v = by_api(ASN_BY_API);
  WEBAUTHN_ASSERTION *a = guarded(assertion_size(v), 2);
  if (!a) return E_INVALIDARG;
  bytes_t ad = canned("assertionAuthenticatorData"), sig = canned("signature"), id = canned("credentialId"), uh = canned("userHandle");
  a->dwVersion = v;
  a->cbAuthenticatorData = ad.n; a->pbAuthenticatorData = ad.p;
  a->cbSignature = sig.n; a->pbSignature = sig.p;
  a->Credential.dwVersion = 1; a->Credential.cbId = id.n; a->Credential.pbId = id.p; a->Credential.pwszCredentialType = wdup("public-key");
  a->cbUserId = uh.n; a->pbUserId = uh.p;
  if (v >= 2) {
    if (want_blob) {
      bytes_t cb = canned("credBlob");
      WEBAUTHN_CRED_BLOB_EXTENSION *x = calloc(1, sizeof *x); x->cbCredBlob = cb.n; x->pbCredBlob = cb.p;
      WEBAUTHN_EXTENSION *e = calloc(1, sizeof *e); *e = (WEBAUTHN_EXTENSION){wdup("credBlob"), sizeof *x, x};
      a->Extensions.cExtensions = 1; a->Extensions.pExtensions = e;
    }
    if (lb_op == 1) { bytes_t lb = canned("largeBlob"); a->cbCredLargeBlob = lb.n; a->pbCredLargeBlob = lb.p; a->dwCredLargeBlobStatus = lb.p ? 1 : 5; }
    else if (lb_op == 2) a->dwCredLargeBlobStatus = 1;
  }
  if (v >= 3 && salts) a->pHmacSecret = canned_hmac(salt2);
  if (v >= 4) a->dwUsedTransport = 0x1;
  if (v >= 6) { a->cbClientDataJSON = cd->cbClientDataJSON; a->pbClientDataJSON = dup_bytes(cd->pbClientDataJSON, cd->cbClientDataJSON); }
  *out = a;
  return S_OK;
}

EXPORT void WebAuthNFreeAssertion(WEBAUTHN_ASSERTION *a) {
  buf_t b = {0};
  int known = 0;
  if (a) {
    DWORD v = a->dwVersion;
    free(a->pbAuthenticatorData); free(a->pbSignature); free(a->Credential.pbId); free((void *)a->Credential.pwszCredentialType); free(a->pbUserId);
    if (v >= 2) {
      for (DWORD i = 0; i < a->Extensions.cExtensions; i++) {
        WEBAUTHN_CRED_BLOB_EXTENSION *x = a->Extensions.pExtensions[i].pvExtension; free(x->pbCredBlob); free(x);
        free((void *)a->Extensions.pExtensions[i].pwszExtensionIdentifier);
      }
      free(a->Extensions.pExtensions); free(a->pbCredLargeBlob);
    }
    if (v >= 3 && a->pHmacSecret) { free(a->pHmacSecret->pbFirst); free(a->pHmacSecret->pbSecond); free(a->pHmacSecret); }
    if (v >= 6) free(a->pbClientDataJSON);
    known = release(a, 2);
  }
  putf(&b, "{\"call\":\"FreeAssertion\",\"null\":%s,\"known\":%s}", a ? "false" : "true", known ? "true" : "false"); emit(&b);
}
