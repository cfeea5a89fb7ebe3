#include "smtpc/tls/engine.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifndef __EMSCRIPTEN__
#include <dirent.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "smtpc/base64.h"

namespace smtpc::tls {

namespace {

struct Problem {
  int code;
  std::string subject;    // of the certificate the problem is about
  std::string issuer;
  std::string notBefore, notAfter;
  std::vector<std::string> names;
};

std::string nameText(const X509_NAME* name) {
  // "CN=..., O=..." as the native transport shows it.
  std::string cn, org;
  const int count = X509_NAME_entry_count(name);
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (length < 0) continue;
    std::string value(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    std::string& into = nid == NID_commonName ? cn : nid == NID_organizationName ? org : cn;
    if (nid != NID_commonName && nid != NID_organizationName) continue;
    into += (into.empty() ? "" : ", ") + value;
  }
  std::string text = cn.empty() ? "(no common name)" : "CN=" + cn;
  if (!org.empty()) text += ", O=" + org;
  return text;
}

std::string timeText(const ASN1_TIME* time) {
  std::tm tm{};
  if (!time || ASN1_TIME_to_tm(time, &tm) != 1) return {};
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string ipText(const ASN1_OCTET_STRING* ip) {
  const unsigned char* b = ASN1_STRING_get0_data(ip);
  const int n = ASN1_STRING_length(ip);
  std::string out;
  if (n == 4) {
    for (int i = 0; i < 4; ++i) out += (i ? "." : "") + std::to_string(b[i]);
  } else if (n == 16) {
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i += 2) {
      if (i) out += ':';
      const unsigned value = (static_cast<unsigned>(b[i]) << 8) | b[i + 1];
      bool started = false;
      for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned digit = (value >> shift) & 0xf;
        if (digit || started || shift == 0) {
          out += hex[digit];
          started = true;
        }
      }
    }
  }
  return out;
}

std::vector<std::string> alternativeNames(X509* certificate) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (!sans) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)), static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      names.push_back(ipText(name->d.iPAddress));
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

std::string colonHex(const unsigned char* data, unsigned length) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    if (i) out += ':';
    out += hex[data[i] >> 4];
    out += hex[data[i] & 0xf];
  }
  return out;
}

CertificateInfo describe(X509* certificate) {
  CertificateInfo info;
  info.subject = nameText(X509_get_subject_name(certificate));
  info.issuer = nameText(X509_get_issuer_name(certificate));
  info.notBefore = timeText(X509_get0_notBefore(certificate));
  info.notAfter = timeText(X509_get0_notAfter(certificate));
  info.subjectAlternativeNames = alternativeNames(certificate);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) == 1) info.sha256Fingerprint = colonHex(digest, length);
  unsigned char* spki = nullptr;
  const int spkiLength = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &spki);
  if (spkiLength > 0) {
    unsigned char hash[32];
    unsigned hashLength = 0;
    if (EVP_Digest(spki, static_cast<std::size_t>(spkiLength), hash, &hashLength, EVP_sha256(), nullptr) == 1)
      info.publicKeySha256 = base64::encode(std::string_view(reinterpret_cast<char*>(hash), hashLength));
    OPENSSL_free(spki);
  }
  return info;
}


// OpenSSL's verify codes mapped onto core's problem kinds; the sentences are core's
// (tls_policy.h), the same as QtTransport's.
tls::CertificateProblem toCoreProblem(const Problem& p) {
  tls::CertificateProblem out;
  out.subject = p.subject;
  out.issuer = p.issuer;
  out.notBefore = p.notBefore;
  out.notAfter = p.notAfter;
  out.names = p.names;
  switch (p.code) {
    case X509_V_ERR_CERT_HAS_EXPIRED: out.kind = tls::ProblemKind::Expired; break;
    case X509_V_ERR_CERT_NOT_YET_VALID: out.kind = tls::ProblemKind::NotYetValid; break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: out.kind = tls::ProblemKind::SelfSigned; break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: out.kind = tls::ProblemKind::PrivateCaInChain; break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      out.kind = tls::ProblemKind::UntrustedIssuer;
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      out.kind = tls::ProblemKind::HostNameMismatch;
      break;
    default:
      out.kind = tls::ProblemKind::Other;
      out.detail = X509_verify_cert_error_string(p.code);
      break;
  }
  return out;
}

int engineIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

#ifndef __EMSCRIPTEN__
// Whether a directory holds the hashed names OpenSSL looks roots up by ("5ad8a5d6.0").
bool hasHashedNames(const std::string& directory) {
  DIR* dir = opendir(directory.c_str());
  if (!dir) return false;
  bool found = false;
  while (const dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name.size() < 10 || name[8] != '.') continue;
    bool hex = true;
    for (std::size_t i = 0; i < 8; ++i) hex = hex && std::isxdigit(static_cast<unsigned char>(name[i]));
    if (hex && std::isdigit(static_cast<unsigned char>(name[9]))) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

bool sameFile(const std::string& a, const std::string& b) {
  char* realA = realpath(a.c_str(), nullptr);
  char* realB = realpath(b.c_str(), nullptr);
  const bool same = realA && realB && std::string_view(realA) == std::string_view(realB);
  std::free(realA);
  std::free(realB);
  return same;
}

std::string environmentOr(const char* variable, const char* fallback) {
  const char* value = std::getenv(variable);
  return value && *value ? value : fallback;
}
#endif

}  // namespace

struct Engine::State {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  BIO* in = nullptr;   // ciphertext from the server, owned by ssl
  BIO* out = nullptr;  // ciphertext to the server, owned by ssl
  std::vector<Problem> problems;

  ~State() {
    if (ssl) SSL_free(ssl);  // frees both BIOs
    if (ctx) SSL_CTX_free(ctx);
  }

  // Records every problem and lets the handshake go on; the decision comes after it.
  static int verify(int ok, X509_STORE_CTX* store) {
    if (ok) return 1;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = static_cast<State*>(SSL_get_ex_data(ssl, engineIndex()));
    Problem p;
    p.code = X509_STORE_CTX_get_error(store);
    if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
      p.subject = nameText(X509_get_subject_name(cert));
      p.issuer = nameText(X509_get_issuer_name(cert));
      p.notBefore = timeText(X509_get0_notBefore(cert));
      p.notAfter = timeText(X509_get0_notAfter(cert));
      p.names = alternativeNames(cert);
    }
    self->problems.push_back(std::move(p));
    return 1;
  }
};

bool Engine::entropyOk() { return RAND_status() == 1; }

TrustedRoots::TrustedRoots(std::string_view pem, TrustStore store) : store_(store) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (infos) {
    for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
      X509_INFO* info = sk_X509_INFO_value(infos, i);
      if (!info->x509) continue;
      X509_up_ref(info->x509);
      certificates_.push_back(info->x509);
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
  }
  ERR_clear_error();
}

TrustedRoots::~TrustedRoots() {
  for (void* certificate : certificates_) X509_free(static_cast<X509*>(certificate));
}

#ifndef __EMSCRIPTEN__
std::shared_ptr<const TrustedRoots> TrustedRoots::system() {
  static const std::shared_ptr<const TrustedRoots> roots = [] {
    std::shared_ptr<TrustedRoots> made(new TrustedRoots(TrustStore::System));
    const std::string directories = environmentOr(X509_get_default_cert_dir_env(), X509_get_default_cert_dir());
    bool hashed = false;
    for (std::size_t start = 0; start <= directories.size();) {
      const std::size_t end = std::min(directories.find(':', start), directories.size());
      hashed = hashed || hasHashedNames(directories.substr(start, end - start));
      start = end + 1;
    }
    if (hashed) made->hashedDirectories_ = directories;
    // SSL_CERT_FILE naming the default bundle itself (as some environments set it) adds nothing
    // the hashed directory lacks: both come from the same set of CAs.
    const std::string file = environmentOr(X509_get_default_cert_file_env(), X509_get_default_cert_file());
    if (!hashed || !sameFile(file, X509_get_default_cert_file())) {
      if (BIO* bio = BIO_new_file(file.c_str(), "r")) {
        STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        for (int i = 0; infos && i < sk_X509_INFO_num(infos); ++i) {
          X509_INFO* info = sk_X509_INFO_value(infos, i);
          if (!info->x509) continue;
          X509_up_ref(info->x509);
          made->certificates_.push_back(info->x509);
        }
        if (infos) sk_X509_INFO_pop_free(infos, X509_INFO_free);
      }
      ERR_clear_error();
    }
    return std::shared_ptr<const TrustedRoots>(std::move(made));
  }();
  return roots;
}
#endif

void TrustedRoots::addTo(void* x509Store) const {
  auto* store = static_cast<X509_STORE*>(x509Store);
  if (!hashedDirectories_.empty())
    if (X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir()))
      X509_LOOKUP_add_dir(lookup, hashedDirectories_.c_str(), X509_FILETYPE_PEM);
  for (void* certificate : certificates_) X509_STORE_add_cert(store, static_cast<X509*>(certificate));
  ERR_clear_error();  // a certificate given twice is not an error
}

Engine::Engine(const TlsConfig& config, std::string host, const TrustedRoots* roots)
    : state_(std::make_unique<State>()),
      config_(config),
      host_(std::move(host)),
      trustStore_(roots ? roots->store() : TrustStore::PageBundle) {
  if (!entropyOk()) {
#ifdef __EMSCRIPTEN__
    fail(Error(ErrorCode::TlsHandshakeFailed,
               "The browser gave no good random numbers (crypto.getRandomValues), so TLS cannot be made safe: "
               "SMTPc refuses to start it."));
#else
    fail(Error(ErrorCode::TlsHandshakeFailed,
               "OpenSSL's random generator is not seeded (this system gave it no entropy), so TLS cannot be made "
               "safe: SMTPc refuses to start it."));
#endif
    return;
  }
  State& s = *state_;
  s.ctx = SSL_CTX_new(TLS_client_method());
  if (!s.ctx) {
    fail(Error(ErrorCode::TlsHandshakeFailed, "OpenSSL could not set up TLS."));
    return;
  }
  SSL_CTX_set_min_proto_version(s.ctx, config.minimumVersion == TlsVersion::Tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_verify(s.ctx, SSL_VERIFY_PEER, &State::verify);

  X509_STORE* store = SSL_CTX_get_cert_store(s.ctx);
  if (roots) roots->addTo(store);
  if (!config.caCertificatesPem.empty()) {
    const TrustedRoots extra(config.caCertificatesPem);
    if (extra.size() == 0) {
      fail(Error(ErrorCode::InvalidArgument, "The extra CA certificate is not PEM (-----BEGIN CERTIFICATE-----)."));
      return;
    }
    extra.addTo(store);
  }

  if (!config.clientCertificatePem.empty()) {
    BIO* certBio = BIO_new_mem_buf(config.clientCertificatePem.data(), static_cast<int>(config.clientCertificatePem.size()));
    X509* cert = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr);
    BIO_free(certBio);
    BIO* keyBio = BIO_new_mem_buf(config.clientKeyPem.data(), static_cast<int>(config.clientKeyPem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    BIO_free(keyBio);
    const bool ok = cert && key && SSL_CTX_use_certificate(s.ctx, cert) == 1 && SSL_CTX_use_PrivateKey(s.ctx, key) == 1 &&
                    SSL_CTX_check_private_key(s.ctx) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) {
      fail(Error(ErrorCode::InvalidArgument, "The client certificate or its key is not valid PEM, or they do not match."));
      return;
    }
  }

  s.ssl = SSL_new(s.ctx);
  s.in = BIO_new(BIO_s_mem());
  s.out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(s.in, -1);  // empty means "wait for more", not end of stream
  SSL_set_bio(s.ssl, s.in, s.out);
  SSL_set_ex_data(s.ssl, engineIndex(), &s);
  SSL_set_connect_state(s.ssl);
  // Fail closed: the name check is set up exactly as core classifies the name, and every
  // setter's result is checked, so no path goes on with no name to verify.
  const std::string name = config.verifyName.empty() ? host_ : config.verifyName;
  X509_VERIFY_PARAM* param = SSL_get0_param(s.ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool nameSet = false;
  switch (tls::classifyName(name)) {
    case tls::NameKind::Ipv4:
    case tls::NameKind::Ipv6:
      nameSet = X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1;
      break;
    case tls::NameKind::HostName:
      // SNI: names only, never an address (RFC 6066 §3)
      // SSL_set_tlsext_host_name() spelled out: the macro's C cast fails g++'s -Wold-style-cast
      nameSet = X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0) == 1 &&
                SSL_ctrl(s.ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                         const_cast<char*>(name.c_str())) == 1;
      break;
    case tls::NameKind::Invalid:
      break;
  }
  if (!nameSet) {
    ERR_clear_error();
    Error invalid = tls::checkVerifyName(name);
    fail(invalid ? invalid
                 : Error(ErrorCode::TlsHandshakeFailed, "OpenSSL could not set up the check of the name \"" + name + "\"."));
  }
}

Engine::~Engine() = default;

void Engine::fail(Error error) {
  status_ = Status::Failed;
  error_ = std::move(error);
}

void Engine::start() {
  if (status_ != Status::Handshaking) return;
  advance();
}

void Engine::advance() {
  if (status_ != Status::Handshaking) return;
  const int result = SSL_do_handshake(state_->ssl);
  if (result == 1) {
    finishHandshake();
    return;
  }
  const int error = SSL_get_error(state_->ssl, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
  char reason[256] = {0};
  ERR_error_string_n(ERR_peek_last_error(), reason, sizeof reason);
  const std::string why = reason;
  ERR_clear_error();
  fail(tls::handshakeFailure(why));
}

void Engine::finishHandshake() {
  SSL* ssl = state_->ssl;
  info_.protocol = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) info_.cipher = SSL_CIPHER_get_name(cipher);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl))
    for (int i = 0; i < sk_X509_num(chain); ++i) info_.chain.push_back(describe(sk_X509_value(chain, i)));
  const std::string name = config_.verifyName.empty() ? host_ : config_.verifyName;
  std::vector<tls::CertificateProblem> problems;
  for (const auto& problem : state_->problems) problems.push_back(toCoreProblem(problem));
  if (info_.chain.empty()) problems.push_back(tls::CertificateProblem{tls::ProblemKind::NoCertificate, {}, {}, {}, {}, {}, {}});
  info_.verificationErrors = tls::explainAll(problems, name, trustStore_);
  if (Error refused = tls::decide(config_, info_)) return fail(refused);
  if (Error pinMismatch = tls::checkPins(config_, info_)) return fail(pinMismatch);
  status_ = Status::Established;
}

void Engine::receive(std::string_view ciphertext, std::string& plaintext) {
  if (status_ == Status::Failed) return;
  BIO_write(state_->in, ciphertext.data(), static_cast<int>(ciphertext.size()));
  if (status_ == Status::Handshaking) advance();
  if (status_ != Status::Established) return;
  std::array<char, 16384> buffer;
  for (;;) {
    const int n = SSL_read(state_->ssl, buffer.data(), static_cast<int>(buffer.size()));
    if (n > 0) {
      plaintext.append(buffer.data(), static_cast<std::size_t>(n));
      continue;
    }
    const int error = SSL_get_error(state_->ssl, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      return;
    }
    char reason[256] = {0};
    ERR_error_string_n(ERR_peek_last_error(), reason, sizeof reason);
    ERR_clear_error();
    return fail(Error(ErrorCode::ReceiveFailed, std::string("The encrypted data from the server was not valid (") + reason + ")."));
  }
}

void Engine::send(std::string_view plaintext) {
  if (status_ != Status::Established) return;
  std::size_t offset = 0;
  while (offset < plaintext.size()) {
    const std::size_t chunk = std::min<std::size_t>(plaintext.size() - offset, 1 << 20);
    const int n = SSL_write(state_->ssl, plaintext.data() + offset, static_cast<int>(chunk));
    if (n <= 0) return fail(Error(ErrorCode::TransmitFailed, "OpenSSL could not encrypt the data."));
    offset += static_cast<std::size_t>(n);
  }
}

std::string Engine::takeOutgoing() {
  std::string out;
  if (!state_->out) return out;
  const std::size_t pending = BIO_ctrl_pending(state_->out);
  if (pending == 0) return out;
  out.resize(pending);
  const int n = BIO_read(state_->out, out.data(), static_cast<int>(pending));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

}  // namespace smtpc::tls
