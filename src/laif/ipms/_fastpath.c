/* The pseudonymiser's file path for plain CSV, in C.
 *
 * One call handles a block of whole lines: splits each on the delimiter, canonicalises the
 * planned columns (id: ASCII letters and digits, upper case; text: lower case, whitespace
 * collapsed), replaces them by HMAC-SHA256 under the domain key (first 16 bytes, hex) and
 * writes the line back. SHA-256 is OpenSSL's (the library Python's hashlib uses); the HMAC
 * is RFC 2104 from inner and outer states keyed once, as in pseudonyms.py.
 *
 * It only takes what it is sure to handle exactly like the Python path: ASCII, no quote
 * characters, no control characters but tab, every line as wide as the header. For anything
 * else it returns None and the caller uses the Python path, which also names the file, line
 * and column of a real error. Tests check both paths give byte-identical files.
 */
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED
#include <Python.h>
#include <openssl/sha.h>
#include <string.h>

#define MAX_COLUMNS 4096
#define MAX_VALUE 4096

typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} hmac_state;

static const char HEX[] = "0123456789abcdef";

static void hmac_init(hmac_state *st, const unsigned char *key, size_t keylen) {
    unsigned char block[64], pad[64];
    memset(block, 0, sizeof block);
    if (keylen > 64) {
        SHA256(key, keylen, block);
    } else {
        memcpy(block, key, keylen);
    }
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&st->inner);
    SHA256_Update(&st->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&st->outer);
    SHA256_Update(&st->outer, pad, 64);
}

static void pseudonym(const hmac_state *st, const unsigned char *data, size_t n, char *out) {
    unsigned char digest[32];
    SHA256_CTX c = st->inner;
    SHA256_Update(&c, data, n);
    SHA256_Final(digest, &c);
    c = st->outer;
    SHA256_Update(&c, digest, 32);
    SHA256_Final(digest, &c);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = HEX[digest[i] >> 4];
        out[2 * i + 1] = HEX[digest[i] & 15];
    }
}

/* canonical_id for ASCII: letters and digits only, upper case. */
static size_t canon_id(const char *s, size_t n, unsigned char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'a' && ch <= 'z') out[k++] = ch - 32;
        else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) out[k++] = ch;
    }
    return k;
}

/* canonical_text for ASCII without control characters: lower case, runs of spaces and tabs
 * become one space, none at either end. */
static size_t canon_text(const char *s, size_t n, unsigned char *out) {
    size_t k = 0;
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' || ch == '\t') {
            pending = k > 0;
            continue;
        }
        if (pending) {
            out[k++] = ' ';
            pending = 0;
        }
        out[k++] = (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
    }
    return k;
}

/* pseudonymise_block(key, block, delimiter, width, kinds) -> (bytes, rows, values) | None
 * kinds: bytes of length `width`, per column 0 (keep), 1 (id) or 2 (text). */
static PyObject *pseudonymise_block(PyObject *self, PyObject *args) {
    Py_buffer key, block, kinds;
    int delimiter;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "y*y*iny*", &key, &block, &delimiter, &width, &kinds)) return NULL;
    PyObject *result = NULL;
    char *out = NULL;
    if (width < 1 || width > MAX_COLUMNS || kinds.len != width) {
        PyErr_SetString(PyExc_ValueError, "kinds must have one byte per column");
        goto done;
    }
    hmac_state st;
    hmac_init(&st, key.buf, (size_t)key.len);
    const char *src = block.buf;
    const unsigned char *kind = kinds.buf;
    size_t n = (size_t)block.len;
    /* Output grows as needed: a line needs at most its length plus 32 bytes per column. */
    size_t cap = n + n / 2 + 1024;
    out = PyMem_Malloc(cap);
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    size_t o = 0;
    long rows = 0, values = 0;
    unsigned char canon[MAX_VALUE];
    size_t pos = 0;
    int fallback = 0;
    while (pos < n && !fallback) {
        const char *line = src + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        pos += len + (nl ? 1 : 0);
        if (len && line[len - 1] == '\r') len--;
        if (len == 0) continue; /* csv.reader skips blank lines */
        size_t need = o + len + 32 * (size_t)width + 2;
        if (need > cap) {
            size_t bigger = need > 2 * cap ? need : 2 * cap;
            char *grown = PyMem_Realloc(out, bigger);
            if (!grown) {
                PyErr_NoMemory();
                goto done;
            }
            out = grown;
            cap = bigger;
        }
        size_t start = o;
        Py_ssize_t col = 0;
        size_t f = 0;
        for (size_t i = 0; i <= len; i++) {
            unsigned char ch = i < len ? (unsigned char)line[i] : 0;
            if (i < len && ch != (unsigned char)delimiter) {
                if (ch >= 0x80 || ch == '"' || (ch < 0x20 && ch != '\t')) {
                    fallback = 1;
                    break;
                }
                continue;
            }
            if (col >= width) {
                fallback = 1;
                break;
            }
            size_t flen = i - f;
            if (col) out[o++] = (char)delimiter;
            if (kind[col] && flen > 0) {
                if (flen > MAX_VALUE) {
                    fallback = 1;
                    break;
                }
                size_t k = kind[col] == 1 ? canon_id(line + f, flen, canon) : canon_text(line + f, flen, canon);
                pseudonym(&st, canon, k, out + o);
                o += 32;
                values++;
            } else {
                memcpy(out + o, line + f, flen);
                o += flen;
            }
            col++;
            f = i + 1;
        }
        if (fallback || col != width) {
            fallback = 1;
            o = start;
            break;
        }
        out[o++] = '\n';
        rows++;
    }
    if (fallback) {
        Py_INCREF(Py_None);
        result = Py_None;
    } else {
        result = Py_BuildValue("(y#ll)", out, (Py_ssize_t)o, rows, values);
    }
done:
    PyMem_Free(out);
    PyBuffer_Release(&key);
    PyBuffer_Release(&block);
    PyBuffer_Release(&kinds);
    return result;
}

static PyMethodDef methods[] = {
    {"pseudonymise_block", pseudonymise_block, METH_VARARGS,
     "Pseudonymise a block of whole plain-ASCII CSV lines; None when the Python path must do it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastpath", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastpath(void) { return PyModule_Create(&module); }
