// Preloaded into smtpc-proxy by tst_proxy (LD_PRELOAD): names listed in SMTPC_TEST_HOSTS
// ("name=address;name=address") resolve to those addresses, so a test can allowlist a *name*
// that resolves into any special-purpose range without a DNS server or /etc/hosts. Every other
// name goes to the C library.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

typedef int (*getaddrinfo_fn)(const char*, const char*, const struct addrinfo*, struct addrinfo**);

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints, struct addrinfo** result) {
  getaddrinfo_fn next = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
  const char* table = getenv("SMTPC_TEST_HOSTS");
  const size_t length = node ? strlen(node) : 0;
  for (const char* entry = table; entry && *entry; entry = strchr(entry, ';') ? strchr(entry, ';') + 1 : NULL) {
    const char* equals = strchr(entry, '=');
    if (!equals || (size_t)(equals - entry) != length || strncmp(entry, node, length) != 0) continue;
    char address[64];
    const char* end = strchr(equals, ';');
    size_t size = end ? (size_t)(end - equals - 1) : strlen(equals + 1);
    if (size >= sizeof address) return EAI_NONAME;
    memcpy(address, equals + 1, size);
    address[size] = '\0';
    struct addrinfo numeric;
    memset(&numeric, 0, sizeof numeric);
    if (hints) numeric = *hints;
    numeric.ai_family = AF_UNSPEC;
    numeric.ai_flags = (hints ? hints->ai_flags : 0) | AI_NUMERICHOST;
    numeric.ai_flags &= ~AI_ADDRCONFIG;  // loopback-only test machines have no global address
    return next(address, service, &numeric, result);
  }
  return next(node, service, hints, result);
}
