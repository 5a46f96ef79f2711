// SPDX-License-Identifier: MIT
/*
 * The packer's cryptography, all through OpenSSL's libcrypto EVP API:
 * SHA-256, and RSA signatures with PKCS#1 v1.5 padding over SHA-256
 * (LPU_FW_SIG_RSA_PKCS1_SHA256).
 */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fwpack.h"

void fw_crypto_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "%s: %s\n", what, buf);
	} else {
		fprintf(stderr, "%s\n", what);
	}
	ERR_clear_error();
}

int fw_sha256(const void *data, size_t len, uint8_t out[LPU_FW_SHA256_SIZE])
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) ||
	    n != LPU_FW_SHA256_SIZE) {
		fw_crypto_error("SHA-256 failed");
		return -1;
	}
	return 0;
}

/* Only RSA keys whose signatures fit the header's limit. */
static EVP_PKEY *usable(EVP_PKEY *key, const char *path)
{
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		fprintf(stderr, "%s: not an RSA key\n", path);
	} else if (EVP_PKEY_get_size(key) <= 0 ||
		   EVP_PKEY_get_size(key) > LPU_FW_SIG_MAX_SIZE) {
		fprintf(stderr, "%s: RSA key of %d bytes: expected at most %d\n",
			path, EVP_PKEY_get_size(key), LPU_FW_SIG_MAX_SIZE);
	} else {
		return key;
	}
	EVP_PKEY_free(key);
	return NULL;
}

EVP_PKEY *fw_load_private_key(const char *path)
{
	EVP_PKEY *key;
	FILE *f = fopen(path, "rb");

	if (!f) {
		perror(path);
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!key) {
		fprintf(stderr, "%s: ", path);
		fw_crypto_error("not a PEM private key");
		return NULL;
	}
	return usable(key, path);
}

/*
 * The card's key form: PKCS#1 RSAPublicKey DER (firmware/keys/README.md);
 * a SubjectPublicKeyInfo DER is accepted too.
 */
EVP_PKEY *fw_load_public_key(const char *path)
{
	unsigned char buf[4096];
	const unsigned char *p;
	EVP_PKEY *key;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f) {
		perror(path);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "%s: %s\n", path, ferror(f) ? "read error" :
			"larger than 4096 bytes: not a public key");
		fclose(f);
		return NULL;
	}
	fclose(f);
	p = buf;
	key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)n);
	if (!key || p != buf + n) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		p = buf;
		key = d2i_PUBKEY(NULL, &p, (long)n);
		if (key && p != buf + n) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	if (!key) {
		fprintf(stderr, "%s: ", path);
		fw_crypto_error("not a DER RSA public key (PKCS#1 RSAPublicKey)");
		return NULL;
	}
	return usable(key, path);
}

size_t fw_key_size(const EVP_PKEY *key)
{
	return (size_t)EVP_PKEY_get_size(key);
}

/* A digest-sign or -verify context with PKCS#1 v1.5 padding over SHA-256. */
static EVP_MD_CTX *rsa_ctx(EVP_PKEY *key, bool sign)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (!ctx)
		return NULL;
	ok = sign ? EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) :
		    EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key);
	if (ok != 1 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int fw_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t *sig,
	    size_t sig_size)
{
	EVP_MD_CTX *ctx = rsa_ctx(key, true);
	size_t n = sig_size;
	int ok;

	if (!ctx) {
		fw_crypto_error("cannot set up RSA signing");
		return -1;
	}
	ok = EVP_DigestSign(ctx, sig, &n, data, len) == 1 && n == sig_size;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		fw_crypto_error("RSA signing failed");
		return -1;
	}
	return 0;
}

int fw_verify(EVP_PKEY *key, const void *data, size_t len, const uint8_t *sig,
	      size_t sig_size)
{
	EVP_MD_CTX *ctx = rsa_ctx(key, false);
	int ret;

	if (!ctx) {
		fw_crypto_error("cannot set up RSA verification");
		return -1;
	}
	ret = EVP_DigestVerify(ctx, sig, sig_size, data, len);
	EVP_MD_CTX_free(ctx);
	/* A signature that does not verify leaves errors queued: drop them. */
	ERR_clear_error();
	return ret == 1;
}
