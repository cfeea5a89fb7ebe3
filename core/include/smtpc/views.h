/// \file
/// What a front end shows after (and during) a run, as plain data: the result panel, the TLS
/// details and the server's offer. The desktop app and the page render these the same way, so a
/// sentence or a rule ("Note:" after a success, "What to try:" after a failure; "verified" only
/// when nothing was accepted despite errors) is written here once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "smtpc/capabilities.h"
#include "smtpc/core_export.h"
#include "smtpc/diagnosis.h"
#include "smtpc/form.h"
#include "smtpc/step.h"
#include "smtpc/tls.h"

/// What a front end shows after a run, as plain data: the result panel, the TLS details and
/// the server's offer.
namespace smtpc::view {

/// The result panel. Everything in it may quote the server: front ends show it as text.
struct Result {
  bool ok = false;  ///< the run did what was asked
  std::string headline;         ///< "The message was accepted", "Login refused"
  std::string explanation;  ///< what happened, in plain words
  std::string failedStepLabel;  ///< "AUTH" when the run failed at a step, else empty
  std::string failedStepPurpose;  ///< what that step is for (stepPurpose())
  std::string serverSaid;  ///< the server's reply that decided it, if any
  std::string suggestionsTitle;  ///< "What to try:" after a failure, "Note:" after a success
  std::vector<std::string> suggestions;  ///< under suggestionsTitle, most likely first
  std::string warning;  ///< shown beside the headline (a run in clear text), else empty
};
/// The result panel for a run that ended with `diagnosis`; `failedStep` from the Explainer.
SMTPC_CORE_EXPORT Result result(const Diagnosis& diagnosis, form::RunKind kind, std::optional<Step> failedStep);

/// A label and its value; the TLS and certificate tables are lists of these.
struct Row {
  std::string label;  ///< what the row is about: "Protocol"
  std::string value;  ///< its value: "TLSv1.3"
};

/// One certificate of the chain, as a table.
struct Certificate {
  std::string title;  ///< "Server certificate", "Issuer certificate 1"
  std::string subject;  ///< the certificate's subject
  std::vector<Row> rows;  ///< issuer, validity, names, fingerprints
};

/// The TLS details: a sentence, a table, and the chain.
struct Tls {
  bool good = false;  ///< verified, and not accepted despite errors
  std::string note;   ///< the sentence above the table
  std::vector<Row> rows;  ///< protocol, cipher, verification, one row per problem
  std::vector<Certificate> chain;  ///< the server's certificate first
};
/// The TLS details for a handshake's result. `relayed`: the page, whose TLS runs inside the browser
/// while a relay carries the bytes.
SMTPC_CORE_EXPORT Tls tls(const TlsInfo& info, bool relayed = false);

/// One keyword the server offered, explained.
struct Offer {
  std::string keyword;  ///< as the server sent it: "SIZE"
  std::string params;   ///< joined by spaces
  std::string meaning;  ///< what it means, for a learner (Capabilities::describe())
};
/// The server's offer (its EHLO reply), explained.
struct Capabilities {
  std::string note;  ///< "mx.example.org offers, inside TLS:"
  std::vector<Offer> offers;  ///< one per EHLO keyword, in the server's order
};
/// The server's offer as a front end shows it; `encrypted` when it came inside TLS.
SMTPC_CORE_EXPORT Capabilities capabilities(const smtpc::Capabilities& capabilities, bool encrypted);

/// The line the transcript shows where TLS begins.
SMTPC_CORE_EXPORT std::string tlsBoundary(const TlsInfo& info, bool relayed = false);

}  // namespace smtpc::view
