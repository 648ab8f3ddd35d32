// aggctl: the command-line client of aggregatord for the privacy team and operators.
//
//   aggctl [global flags] COMMAND [command flags]
//
// Commands (Query needs a reader or privacy-admin token, Admin a privacy-admin token):
//   rates           --from=DAY --to=DAY [--group_by=organization|pinset] [--keys=a,b]
//                   [--product= --channel= --major_version=] [--per_day]
//   catalog         [--catalog_version=V]           pinsets of a catalog (current by default)
//   params          list every published params version with its epsilons
//   client-params   what Params.Get serves to clients (open, no token)
//   events          [--from= --to= --organization=]
//   audit           [--limit=N]
//   publish-params  --f= --p= --q= [--s=] [--bits=]            explicit parameters, or
//                   --target_epsilon_one= --target_epsilon_inf=  tuned by privacy's tuner
//                   [--catalog_version=] [--note=] [--dry_run]
//   publish-catalog --catalog_file=F (text or *.json) [--note=]
//   record-event    --day=DAY --kind=promote_to_enforce|demote_to_test|pinset_change|
//                   params_change|catalog_change|note [--organization= --pinset= --description=]
//   export-counts   --data_dir=DIR --out=F [--format=native|rappor --params_version=N
//                   --rappor_params_out=F --rappor_labels_out=F]     (the store, no server)
//   import-counts   --data_dir=DIR --in=F                              (the store, no server)
//                   (both also --store=postgres --postgres=CONNINFO [--postgres_password_file=F
//                   --postgres_schema=S] instead of --data_dir)
//
// Global flags: --server=HOST:PORT, --ca_file=PEM (TLS; the system roots when empty) or --insecure,
// --token_file=F (else the AGGCTL_TOKEN environment variable; tokens are never taken from the
// command line), --timeout_s=N (every call has this deadline), --json (machine-readable output).
// Exit status: 0 on success, 1 on an error (printed as CODE: message), 2 on bad usage.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "aggregator/serve/grpc_status.h"
#include "aggregator/serve/proto_files.h"
#include "aggregator/storage/counts_csv.h"
#include "aggregator/storage/postgres/postgres_store.h"
#include "aggregator/storage/sqlite_store.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "privacy/tuner.h"
#include "proto/params.grpc.pb.h"
#include "proto/query.grpc.pb.h"
#include "third_party/absl_compat/status_macros.h"

ABSL_FLAG(std::string, server, "127.0.0.1:8443", "aggregatord address, host:port");
ABSL_FLAG(std::string, ca_file, "", "PEM file of the CA that signed the server certificate");
ABSL_FLAG(bool, insecure, false, "plaintext gRPC (tests and development only)");
ABSL_FLAG(std::string, token_file, "",
          "file holding the bearer token (else the AGGCTL_TOKEN environment variable)");
ABSL_FLAG(int, timeout_s, 10, "deadline of every call, seconds");
ABSL_FLAG(bool, json, false, "print JSON instead of tables");

ABSL_FLAG(std::string, from, "", "first day, YYYY-MM-DD");
ABSL_FLAG(std::string, to, "", "last day, YYYY-MM-DD (inclusive)");
ABSL_FLAG(std::string, group_by, "organization", "rates: organization or pinset");
ABSL_FLAG(std::vector<std::string>, keys, {}, "rates: organizations or pinset names to show");
ABSL_FLAG(std::string, product, "", "rates: dimension filter");
ABSL_FLAG(std::string, channel, "", "rates: dimension filter");
ABSL_FLAG(uint32_t, major_version, 0, "rates: dimension filter");
ABSL_FLAG(bool, per_day, false, "rates: one point per day instead of one per range");
ABSL_FLAG(std::string, catalog_version, "", "catalog version (empty: current)");
ABSL_FLAG(std::string, organization, "", "events / record-event: organization");
ABSL_FLAG(uint32_t, limit, 50, "audit: newest N records (0: all)");
ABSL_FLAG(double, f, NAN, "publish-params: PRR probability f");
ABSL_FLAG(double, p, NAN, "publish-params: IRR probability p");
ABSL_FLAG(double, q, NAN, "publish-params: IRR probability q");
ABSL_FLAG(uint32_t, s, 0, "publish-params: pinsets per ping (0: all K)");
ABSL_FLAG(uint32_t, bits, 2, "publish-params: bits per pinset");
ABSL_FLAG(double, target_epsilon_one, NAN, "publish-params: tune for this whole-ping eps1");
ABSL_FLAG(double, target_epsilon_inf, NAN, "publish-params: tune for this whole-ping eps_inf");
ABSL_FLAG(std::string, note, "", "publish-*: note stored with the publication");
ABSL_FLAG(bool, dry_run, false, "publish-params: only report epsilons and projected errors");
ABSL_FLAG(std::string, catalog_file, "", "publish-catalog: Catalog in text format or JSON");
ABSL_FLAG(std::string, day, "", "record-event: day the event took effect");
ABSL_FLAG(std::string, kind, "note", "record-event: event kind");
ABSL_FLAG(std::string, pinset, "", "record-event: pinset name");
ABSL_FLAG(std::string, description, "", "record-event: free text");
ABSL_FLAG(std::string, data_dir, "", "export/import-counts: aggregatord's data directory");
ABSL_FLAG(std::string, store, "sqlite", "export/import-counts: sqlite (--data_dir) or postgres");
ABSL_FLAG(std::string, postgres, "", "export/import-counts: PostgreSQL conninfo, no password");
ABSL_FLAG(std::string, postgres_password_file, "", "export/import-counts: password file");
ABSL_FLAG(std::string, postgres_schema, "public", "export/import-counts: PostgreSQL schema");
ABSL_FLAG(std::string, out, "", "export-counts: output file (counts.csv for --format=rappor)");
ABSL_FLAG(std::string, in, "", "import-counts: input file (native CSV)");
ABSL_FLAG(std::string, format, "native", "export-counts: native or rappor");
ABSL_FLAG(uint32_t, params_version, 0, "export-counts --format=rappor: params version");
ABSL_FLAG(std::string, rappor_params_out, "", "export-counts --format=rappor: params.csv path");
ABSL_FLAG(std::string, rappor_labels_out, "", "export-counts --format=rappor: row labels path");

namespace pinning::aggregator {
namespace {

// ---- Output helpers ----

// Table prints left-aligned columns separated by two spaces.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const {
    std::vector<size_t> widths;
    for (const auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()), 0);
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        absl::StrAppend(&line, row[i]);
        if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string Eps(double e) { return std::isinf(e) ? "inf" : absl::StrFormat("%.4f", e); }
std::string Pct(double x) { return absl::StrFormat("%.3f%%", 100 * x); }

std::string FormatTime(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone());
}

// ---- Connection ----

absl::StatusOr<std::string> ReadToken() {
  std::string token;
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read --token_file ", path));
    std::getline(in, token);
  } else if (const char* env = std::getenv("AGGCTL_TOKEN"); env != nullptr) {
    token = env;
  }
  return std::string(absl::StripAsciiWhitespace(token));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect() {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (absl::GetFlag(FLAGS_insecure)) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (const std::string ca = absl::GetFlag(FLAGS_ca_file); !ca.empty()) {
      std::ifstream in(ca);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot read --ca_file ", ca));
      std::stringstream buffer;
      buffer << in.rdbuf();
      ssl.pem_root_certs = buffer.str();
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateChannel(absl::GetFlag(FLAGS_server), credentials);
}

// Call is one RPC's context: deadline always set, token attached when `with_token`.
absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(bool with_token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() +
                                           absl::Seconds(absl::GetFlag(FLAGS_timeout_s))));
  if (with_token) {
    ASSIGN_OR_RETURN(std::string token, ReadToken());
    if (token.empty()) {
      return absl::UnauthenticatedError(
          "no token: set --token_file or the AGGCTL_TOKEN environment variable");
    }
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  return context;
}

void PrintJson(const google::protobuf::Message& message) {
  std::cout << ProtoToPrettyJson(message) << "\n";
}

// ---- Commands ----

absl::Status Rates(const std::shared_ptr<grpc::Channel>& channel) {
  v1::RatesRequest request;
  request.set_from_day(absl::GetFlag(FLAGS_from));
  request.set_to_day(absl::GetFlag(FLAGS_to));
  const std::string group_by = absl::GetFlag(FLAGS_group_by);
  if (group_by == "organization") {
    request.set_group_by(v1::GROUP_BY_ORGANIZATION);
  } else if (group_by == "pinset") {
    request.set_group_by(v1::GROUP_BY_PINSET);
  } else {
    return absl::InvalidArgumentError("--group_by must be organization or pinset");
  }
  for (const std::string& key : absl::GetFlag(FLAGS_keys)) request.add_keys(key);
  request.mutable_filter()->set_product(absl::GetFlag(FLAGS_product));
  request.mutable_filter()->set_channel(absl::GetFlag(FLAGS_channel));
  request.mutable_filter()->set_major_version(absl::GetFlag(FLAGS_major_version));
  request.set_per_day(absl::GetFlag(FLAGS_per_day));
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::RatesResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Query::NewStub(channel)
                         ->Rates(context.get(), request, &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
    return absl::OkStatus();
  }
  Table table({group_by, "organization", "day", "rate", "std_error", "95% CI", "pings",
               "params"});
  for (const v1::RateSeries& series : response.series()) {
    for (const v1::RatePoint& point : series.points()) {
      const std::string day = point.day().empty() ? "(range)" : point.day();
      const std::string versions = absl::StrJoin(point.params_versions(), ",");
      if (!point.sufficient()) {
        table.Add({series.key(), series.organization(), day,
                   absl::StrCat("insufficient: ", point.insufficient_reason()), "", "",
                   absl::StrCat(point.pings()), versions});
        continue;
      }
      table.Add({series.key(), series.organization(), day, Pct(point.rate()),
                 Pct(point.std_error()),
                 absl::StrCat("[", Pct(point.ci_low()), ", ", Pct(point.ci_high()), "]"),
                 absl::StrCat(point.pings()), versions});
    }
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

absl::StatusOr<v1::Catalog> FetchCatalog(const std::shared_ptr<grpc::Channel>& channel, const std::string& version) {
  v1::CatalogRequest request;
  request.set_version(version);
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::Catalog catalog;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Query::NewStub(channel)
                         ->Catalog(context.get(), request, &catalog)));
  return catalog;
}

absl::Status Catalog(const std::shared_ptr<grpc::Channel>& channel) {
  ASSIGN_OR_RETURN(v1::Catalog catalog,
                   FetchCatalog(channel, absl::GetFlag(FLAGS_catalog_version)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(catalog);
    return absl::OkStatus();
  }
  std::cout << "catalog " << catalog.version() << " (" << catalog.pinsets_size() << " pinsets, "
            << catalog.hosts_size() << " hosts; source: " << catalog.source() << ")\n";
  std::map<uint32_t, int> hosts_per_pinset;
  for (const v1::PinnedHost& host : catalog.hosts()) ++hosts_per_pinset[host.pinset_index()];
  Table table({"index", "pinset", "organization", "mode", "keys", "hosts"});
  for (const v1::Pinset& pinset : catalog.pinsets()) {
    table.Add({absl::StrCat(pinset.index()), pinset.name(), pinset.organization(),
               pinset.mode() == v1::PIN_MODE_ENFORCE ? "enforce"
               : pinset.mode() == v1::PIN_MODE_TEST  ? "test"
                                                     : "-",
               absl::StrCat(pinset.spki_sha256_size()),
               absl::StrCat(hosts_per_pinset[pinset.index()])});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

void PrintParamsTable(const std::vector<const v1::ParamsVersion*>& versions) {
  Table table({"version", "f", "p", "q", "s", "bits", "epsilon_one", "epsilon_inf", "catalog",
               "published", "by", "note"});
  for (const v1::ParamsVersion* v : versions) {
    table.Add({absl::StrCat(v->version()), absl::StrCat(v->params().f()),
               absl::StrCat(v->params().p()), absl::StrCat(v->params().q()),
               absl::StrCat(v->params().pinsets_per_ping()),
               absl::StrCat(v->params().bits_per_pinset()), Eps(v->epsilon_one()),
               Eps(v->epsilon_inf()), v->catalog_version().substr(0, 12),
               v->has_published_at() ? FormatTime(v->published_at()) : "-", v->published_by(),
               v->note()});
  }
  table.Print(std::cout);
}

absl::Status ListParams(const std::shared_ptr<grpc::Channel>& channel) {
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::ListParamsResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Query::NewStub(channel)
                         ->ListParams(context.get(), v1::ListParamsRequest(), &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
    return absl::OkStatus();
  }
  std::vector<const v1::ParamsVersion*> versions;
  for (const auto& v : response.versions()) versions.push_back(&v);
  PrintParamsTable(versions);
  return absl::OkStatus();
}

absl::Status ClientParams(const std::shared_ptr<grpc::Channel>& channel) {
  ASSIGN_OR_RETURN(auto context, NewContext(false));
  v1::GetParamsResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Params::NewStub(channel)
                         ->Get(context.get(), v1::GetParamsRequest(), &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
    return absl::OkStatus();
  }
  PrintParamsTable({&response.current()});
  std::cout << "catalog " << response.catalog().version() << ": "
            << response.catalog().pinsets_size() << " pinsets\n";
  return absl::OkStatus();
}

absl::Status Events(const std::shared_ptr<grpc::Channel>& channel) {
  v1::EventsRequest request;
  request.set_from_day(absl::GetFlag(FLAGS_from));
  request.set_to_day(absl::GetFlag(FLAGS_to));
  request.set_organization(absl::GetFlag(FLAGS_organization));
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::EventsResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Query::NewStub(channel)
                         ->Events(context.get(), request, &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
    return absl::OkStatus();
  }
  Table table({"id", "day", "kind", "organization", "pinset", "description", "by"});
  for (const v1::RolloutEvent& e : response.events()) {
    table.Add({absl::StrCat(e.id()), e.day(),
               absl::AsciiStrToLower(v1::EventKind_Name(e.kind()).substr(11)), e.organization(),
               e.pinset(), e.description(), e.recorded_by()});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

absl::Status Audit(const std::shared_ptr<grpc::Channel>& channel) {
  v1::ListAuditRequest request;
  request.set_limit(absl::GetFlag(FLAGS_limit));
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::ListAuditResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Admin::NewStub(channel)
                         ->ListAudit(context.get(), request, &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
    return absl::OkStatus();
  }
  Table table({"id", "at", "actor", "action", "new value"});
  for (const v1::AuditRecord& r : response.records()) {
    std::string value = r.new_value();
    if (value.size() > 100) value = absl::StrCat(value.substr(0, 97), "...");
    table.Add({absl::StrCat(r.id()), FormatTime(r.at()), r.actor(), r.action(), value});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

absl::Status PublishParams(const std::shared_ptr<grpc::Channel>& channel) {
  v1::PublishParamsRequest request;
  request.set_catalog_version(absl::GetFlag(FLAGS_catalog_version));
  request.set_note(absl::GetFlag(FLAGS_note));
  request.set_dry_run(absl::GetFlag(FLAGS_dry_run));
  v1::RandomizationParams* params = request.mutable_params();
  const double e1 = absl::GetFlag(FLAGS_target_epsilon_one);
  const double einf = absl::GetFlag(FLAGS_target_epsilon_inf);
  const bool explicit_params = !std::isnan(absl::GetFlag(FLAGS_f)) ||
                               !std::isnan(absl::GetFlag(FLAGS_p)) ||
                               !std::isnan(absl::GetFlag(FLAGS_q));
  const bool tuned = !std::isnan(e1) || !std::isnan(einf);
  if (explicit_params == tuned) {
    return absl::InvalidArgumentError(
        "give either --f --p --q [--s --bits] or --target_epsilon_one and --target_epsilon_inf");
  }
  if (explicit_params) {
    params->set_f(absl::GetFlag(FLAGS_f));
    params->set_p(absl::GetFlag(FLAGS_p));
    params->set_q(absl::GetFlag(FLAGS_q));
    params->set_pinsets_per_ping(absl::GetFlag(FLAGS_s));
    params->set_bits_per_pinset(absl::GetFlag(FLAGS_bits));
  } else {
    if (std::isnan(e1) || std::isnan(einf)) {
      return absl::InvalidArgumentError(
          "tuning needs both --target_epsilon_one and --target_epsilon_inf");
    }
    // K comes from the catalog the parameters are for.
    ASSIGN_OR_RETURN(v1::Catalog catalog,
                     FetchCatalog(channel, absl::GetFlag(FLAGS_catalog_version)));
    privacy::TuningTargets targets;
    targets.epsilon_one = e1;
    targets.epsilon_inf = einf;
    targets.num_pinsets = catalog.pinsets_size();
    targets.bits_per_pinset = static_cast<int>(absl::GetFlag(FLAGS_bits));
    ASSIGN_OR_RETURN(privacy::TunedParams tuned_params, privacy::TuneParams(targets));
    params->set_f(tuned_params.params.f());
    params->set_p(tuned_params.params.p());
    params->set_q(tuned_params.params.q());
    params->set_pinsets_per_ping(tuned_params.params.pinsets_per_ping());
    params->set_bits_per_pinset(tuned_params.params.bits_per_pinset());
    request.set_catalog_version(catalog.version());
    if (!absl::GetFlag(FLAGS_json)) {
      std::cout << "tuned for eps1 <= " << e1 << ", eps_inf <= " << einf << " with K = "
                << catalog.pinsets_size() << ": " << tuned_params.params.DebugString()
                << " (objective J = " << tuned_params.objective << ")\n";
    }
  }
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::PublishParamsResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Admin::NewStub(channel)
                         ->PublishParams(context.get(), request, &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
    return absl::OkStatus();
  }
  std::cout << (request.dry_run() ? "dry run (not published):\n" : "published:\n");
  PrintParamsTable({&response.published()});
  if (response.projected_size() > 0) {
    std::cout << "projected daily standard error of each organization's rate at recent volume:\n";
    Table table({"organization", "std_error"});
    for (const v1::ProjectedError& e : response.projected()) {
      table.Add({e.organization(), Pct(e.std_error())});
    }
    table.Print(std::cout);
  } else {
    std::cout << "no projection (no recent pings)\n";
  }
  return absl::OkStatus();
}

absl::Status PublishCatalog(const std::shared_ptr<grpc::Channel>& channel) {
  const std::string path = absl::GetFlag(FLAGS_catalog_file);
  if (path.empty()) return absl::InvalidArgumentError("--catalog_file is required");
  v1::PublishCatalogRequest request;
  RETURN_IF_ERROR(ReadProtoFile(path, request.mutable_catalog()));
  request.set_note(absl::GetFlag(FLAGS_note));
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::PublishCatalogResponse response;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Admin::NewStub(channel)
                         ->PublishCatalog(context.get(), request, &response)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
  } else {
    std::cout << "catalog version " << response.version() << "\n";
  }
  return absl::OkStatus();
}

absl::Status RecordEvent(const std::shared_ptr<grpc::Channel>& channel) {
  v1::RolloutEvent event;
  event.set_day(absl::GetFlag(FLAGS_day));
  const std::string kind_name =
      absl::StrCat("EVENT_KIND_", absl::AsciiStrToUpper(absl::GetFlag(FLAGS_kind)));
  v1::EventKind kind;
  if (!v1::EventKind_Parse(kind_name, &kind) || kind == v1::EVENT_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat("unknown --kind ", absl::GetFlag(FLAGS_kind)));
  }
  event.set_kind(kind);
  event.set_organization(absl::GetFlag(FLAGS_organization));
  event.set_pinset(absl::GetFlag(FLAGS_pinset));
  event.set_description(absl::GetFlag(FLAGS_description));
  ASSIGN_OR_RETURN(auto context, NewContext(true));
  v1::RolloutEvent stored;
  RETURN_IF_ERROR(
      FromGrpcStatus(v1::Admin::NewStub(channel)
                         ->RecordEvent(context.get(), event, &stored)));
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(stored);
  } else {
    std::cout << "recorded event " << stored.id() << "\n";
  }
  return absl::OkStatus();
}

// OpenStore opens the store named by --store: PostgreSQL (--postgres), or aggregator.db in
// --data_dir. For SQLite with `create`, a missing directory and database are created (import into
// a new store); otherwise they must exist.
absl::StatusOr<std::unique_ptr<CountStore>> OpenStore(bool create) {
  if (absl::GetFlag(FLAGS_store) == "postgres") {
    PostgresStoreOptions options;
    options.conninfo = absl::GetFlag(FLAGS_postgres);
    options.password_file = absl::GetFlag(FLAGS_postgres_password_file);
    options.schema = absl::GetFlag(FLAGS_postgres_schema);
    options.pool_size = 1;
    ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
    return std::unique_ptr<CountStore>(std::move(store));
  }
  if (absl::GetFlag(FLAGS_store) != "sqlite") {
    return absl::InvalidArgumentError("--store must be sqlite or postgres");
  }
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  if (dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  SqliteStoreOptions options;
  options.path = dir + "/aggregator.db";
  struct stat st;
  if (create) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::UnavailableError(absl::StrCat("cannot create ", dir));
    }
  } else if (::stat(options.path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("no database at ", options.path));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
  return std::unique_ptr<CountStore>(std::move(store));
}

absl::Status ExportCounts() {
  const std::string out_path = absl::GetFlag(FLAGS_out);
  if (out_path.empty()) return absl::InvalidArgumentError("--out is required");
  ASSIGN_OR_RETURN(std::unique_ptr<CountStore> store, OpenStore(/*create=*/false));
  std::ofstream out(out_path, std::ios::trunc);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", out_path));
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format == "native") {
    RETURN_IF_ERROR(ExportCountsCsv(*store, out));
  } else if (format == "rappor") {
    const std::string params_path = absl::GetFlag(FLAGS_rappor_params_out);
    if (params_path.empty() || absl::GetFlag(FLAGS_params_version) == 0) {
      return absl::InvalidArgumentError(
          "--format=rappor needs --params_version and --rappor_params_out");
    }
    std::ofstream params_out(params_path, std::ios::trunc);
    std::unique_ptr<std::ofstream> labels;
    if (const std::string labels_path = absl::GetFlag(FLAGS_rappor_labels_out);
        !labels_path.empty()) {
      labels = std::make_unique<std::ofstream>(labels_path, std::ios::trunc);
    }
    RETURN_IF_ERROR(ExportRapporCsv(*store, absl::GetFlag(FLAGS_params_version), out, params_out,
                                    labels.get()));
  } else {
    return absl::InvalidArgumentError("--format must be native or rappor");
  }
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("error writing ", out_path));
  std::cerr << "exported counts to " << out_path << "\n";
  return absl::OkStatus();
}

absl::Status ImportCounts() {
  const std::string in_path = absl::GetFlag(FLAGS_in);
  if (in_path.empty()) return absl::InvalidArgumentError("--in is required");
  std::ifstream in(in_path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", in_path));
  ASSIGN_OR_RETURN(std::unique_ptr<CountStore> store, OpenStore(/*create=*/true));
  RETURN_IF_ERROR(ImportCountsCsv(in, *store));
  std::cerr << "imported counts from " << in_path << "\n";
  return absl::OkStatus();
}

absl::Status Run(const std::string& command) {
  if (command == "export-counts") return ExportCounts();
  if (command == "import-counts") return ImportCounts();
  using Handler = absl::Status (*)(const std::shared_ptr<grpc::Channel>&);
  static const std::map<std::string, Handler> kRemote = {
      {"rates", Rates},
      {"catalog", Catalog},
      {"params", ListParams},
      {"client-params", ClientParams},
      {"events", Events},
      {"audit", Audit},
      {"publish-params", PublishParams},
      {"publish-catalog", PublishCatalog},
      {"record-event", RecordEvent},
  };
  auto it = kRemote.find(command);
  if (it == kRemote.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, Connect());
  return it->second(channel);
}

}  // namespace
}  // namespace pinning::aggregator

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "aggctl: client of aggregatord.\n"
      "Usage: aggctl [--server=H:P --ca_file=F | --insecure] [--token_file=F] [--json] COMMAND "
      "[flags]\nCommands: rates, catalog, params, client-params, events, audit, publish-params, "
      "publish-catalog, record-event, export-counts, import-counts (see docs/aggregator.md)");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: aggctl [flags] COMMAND [flags]  (aggctl --help for the list)\n";
    return 2;
  }
  absl::Status status = pinning::aggregator::Run(args[1]);
  if (!status.ok()) {
    std::cerr << "aggctl: " << absl::StatusCodeToString(status.code()) << ": "
              << status.message() << "\n";
    return status.code() == absl::StatusCode::kInvalidArgument &&
                   status.message().rfind("unknown command", 0) == 0
               ? 2
               : 1;
  }
  return 0;
}
