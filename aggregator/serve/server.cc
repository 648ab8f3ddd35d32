#include "aggregator/serve/server.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "aggregator/alerts/alert_monitor.h"
#include "aggregator/alerts/alerts_service.h"
#include "aggregator/decode/decoder.h"
#include "aggregator/http/core_backend.h"
#include "aggregator/http/http_gateway.h"
#include "aggregator/ingest/group_committer.h"
#include "aggregator/ingest/validator.h"
#include "aggregator/metrics/metrics.h"
#include "aggregator/registry/error_projector.h"
#include "aggregator/registry/registry.h"
#include "aggregator/serve/admin_service.h"
#include "aggregator/serve/auth.h"
#include "aggregator/serve/ingest_service.h"
#include "aggregator/serve/params_service.h"
#include "aggregator/serve/proto_files.h"
#include "aggregator/serve/query_service.h"
#include "aggregator/serve/storage_health.h"
#include "aggregator/serve/work_pool.h"
#include "aggregator/storage/postgres/postgres_store.h"
#include "aggregator/storage/sqlite_store.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::aggregator {
namespace {

// The actor recorded in the audit log for what the configuration publishes at start.
constexpr char kConfigActor[] = "aggregatord-config";
// Threads for blocking RPC work (queries, publications).
constexpr int kWorkThreads = 2;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status CheckOptions(const ServerOptions& options) {
  if (options.store != "sqlite" && options.store != "postgres") {
    return absl::InvalidArgumentError(
        absl::StrCat("store must be sqlite or postgres, got '", options.store, "'"));
  }
  if (options.store == "sqlite" && options.data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir is required with store=sqlite");
  }
  if (!options.insecure && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError(
        "tls_cert_file and tls_key_file are required (or insecure, for tests and development)");
  }
  if (options.insecure && (!options.tls_cert_file.empty() || !options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("insecure contradicts tls_cert_file/tls_key_file");
  }
  if (options.commit_max_batch < 1 || options.queue_capacity < 1 ||
      options.stream_max_in_flight < 1 || options.completion_threads < 1) {
    return absl::InvalidArgumentError(
        "commit_max_batch, queue_capacity, stream_max_in_flight and completion_threads must be "
        ">= 1");
  }
  return absl::OkStatus();
}

absl::Status MakeDataDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create data_dir ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Bootstrap publishes the configured initial catalog and, when no parameters exist yet, the
// initial parameters.
absl::Status Bootstrap(const ServerOptions& options, Registry& registry) {
  if (!options.initial_catalog_file.empty()) {
    v1::Catalog catalog;
    RETURN_IF_ERROR(ReadProtoFile(options.initial_catalog_file, &catalog));
    absl::StatusOr<std::string> version = registry.PublishCatalog(
        std::move(catalog), absl::StrCat("from ", options.initial_catalog_file), kConfigActor);
    if (!version.ok()) {
      return absl::Status(version.status().code(),
                          absl::StrCat("initial_catalog_file ", options.initial_catalog_file,
                                       ": ", version.status().message()));
    }
  }
  if (!options.initial_params_file.empty() && !registry.CurrentParams().ok()) {
    v1::RandomizationParams params;
    RETURN_IF_ERROR(ReadProtoFile(options.initial_params_file, &params));
    absl::StatusOr<v1::ParamsVersion> published = registry.PublishInitialParams(
        params, absl::StrCat("from ", options.initial_params_file), kConfigActor);
    if (!published.ok()) {
      return absl::Status(published.status().code(),
                          absl::StrCat("initial_params_file ", options.initial_params_file, ": ",
                                       published.status().message()));
    }
  }
  return absl::OkStatus();
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(ServerOptions options) : options_(std::move(options)) {}
  ~ServerImpl() override { Shutdown(); }

  absl::Status Init();

  int port() const override { return port_; }
  std::string address() const override { return address_; }
  int http_port() const override { return http_gateway_ ? http_gateway_->port() : 0; }
  std::string http_address() const override {
    return http_gateway_ ? http_gateway_->address() : std::string();
  }
  void Shutdown() override;
  void Wait() override { shutdown_done_.WaitForNotification(); }
  std::string MetricsText() const override { return metrics_.ExportPrometheus(); }
  absl::Status ReloadTokens() override;

 private:
  const ServerOptions options_;
  MetricsRegistry metrics_;
  std::unique_ptr<TokenStore> tokens_;
  LabeledCounter* token_reloads_ = nullptr;
  std::unique_ptr<CountStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Validator> validator_;
  // Runs the group committer's callbacks (finishing ingest calls); declared before committer_ so
  // that it outlives it.
  std::unique_ptr<WorkPool> completions_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<ErrorProjector> projector_;
  std::unique_ptr<WorkPool> pool_;
  std::unique_ptr<IngestService> ingest_service_;
  std::unique_ptr<ParamsService> params_service_;
  std::unique_ptr<QueryService> query_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<AlertMonitor> alert_monitor_;
  std::unique_ptr<AlertsService> alerts_service_;
  std::unique_ptr<CoreBackend> http_backend_;
  std::unique_ptr<HttpGateway> http_gateway_;
  std::atomic<bool> serving_{false};
  std::unique_ptr<grpc::Server> grpc_server_;
  int port_ = 0;
  std::string address_;

  // Background maintenance: registry refresh (ServerOptions::registry_refresh_interval) and the
  // storage health of the health service.
  void MaintenanceLoop();
  void UpdateHealth(bool storage_healthy);
  absl::Mutex maintenance_mu_;
  bool maintenance_stop_ ABSL_GUARDED_BY(maintenance_mu_) = false;
  std::thread maintenance_thread_;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
  absl::Notification shutdown_done_;
};

absl::Status ServerImpl::Init() {
  RETURN_IF_ERROR(CheckOptions(options_));

  if (options_.token_file.empty()) {
    ASSIGN_OR_RETURN(TokenStore tokens, TokenStore::Parse(""));
    tokens_ = std::make_unique<TokenStore>(std::move(tokens));
  } else {
    ASSIGN_OR_RETURN(TokenStore tokens, TokenStore::LoadFile(options_.token_file));
    tokens_ = std::make_unique<TokenStore>(std::move(tokens));
  }
  token_reloads_ = metrics_.AddLabeledCounter("pinning_token_reloads_total",
                                              "Token file reloads (SIGHUP), by result.", "result");

  if (options_.store == "postgres") {
    PostgresStoreOptions pg;
    pg.conninfo = options_.postgres_conninfo;
    pg.password_file = options_.postgres_password_file;
    pg.schema = options_.postgres_schema;
    pg.pool_size = options_.postgres_pool_size;
    ASSIGN_OR_RETURN(store_, PostgresStore::Open(pg));
  } else {
    RETURN_IF_ERROR(MakeDataDir(options_.data_dir));
    SqliteStoreOptions store_options;
    store_options.path = options_.data_dir + "/aggregator.db";
    store_options.cache_size_kib = options_.sqlite_cache_kib;
    ASSIGN_OR_RETURN(store_, SqliteStore::Open(store_options));
  }

  RegistryOptions registry_options;
  registry_options.max_epsilon_one = options_.max_epsilon_one;
  registry_options.max_epsilon_inf = options_.max_epsilon_inf;
  ASSIGN_OR_RETURN(registry_, Registry::Load(store_.get(), registry_options));
  RETURN_IF_ERROR(Bootstrap(options_, *registry_));

  ValidatorOptions validator_options;
  validator_options.products = options_.products;
  validator_options.channels = options_.channels;
  validator_options.min_major_version = options_.min_major_version;
  validator_options.max_major_version = options_.max_major_version;
  validator_options.window.max_future_days = options_.max_future_days;
  validator_options.window.max_age_days = options_.max_age_days;
  validator_options.window.retention_days = options_.retention_days;
  ASSIGN_OR_RETURN(validator_,
                   Validator::Create(validator_options, registry_.get(), &metrics_));

  GroupCommitterOptions committer_options;
  committer_options.max_batch_pings = options_.commit_max_batch;
  committer_options.max_wait = options_.commit_max_wait;
  committer_options.queue_capacity = options_.queue_capacity;
  committer_options.retry_after_ms = options_.retry_after_ms;
  committer_options.window = validator_options.window;
  // Commit callbacks finish gRPC calls (~10 us each in gRPC's send path); they run on their own
  // threads, so the committer's thread goes straight back to committing, and a batch's calls are
  // finished by all of these threads in parallel.
  completions_ = std::make_unique<WorkPool>(options_.completion_threads, "ingest-finish");
  committer_options.callback_tasks = options_.completion_threads;
  committer_options.callback_executor = [pool = completions_.get()](
                                            absl::AnyInvocable<void() &&> callbacks) {
    pool->Schedule(std::move(callbacks));
  };
  ASSIGN_OR_RETURN(committer_,
                   GroupCommitter::Start(store_.get(), &metrics_, committer_options));

  decoder_ = std::make_unique<Decoder>(store_.get());
  projector_ = std::make_unique<ErrorProjector>(decoder_.get(), store_.get(), ErrorProjectorOptions{});
  pool_ = std::make_unique<WorkPool>(kWorkThreads, "rpc-work");

  IngestServiceOptions ingest_options;
  ingest_options.max_in_flight = options_.stream_max_in_flight;
  ingest_service_ = std::make_unique<IngestService>(validator_.get(), committer_.get(),
                                                    ingest_options);
  params_service_ = std::make_unique<ParamsService>(registry_.get());
  query_service_ = std::make_unique<QueryService>(tokens_.get(), registry_.get(), decoder_.get(),
                                                  store_.get(), pool_.get());
  admin_service_ = std::make_unique<AdminService>(tokens_.get(), registry_.get(), store_.get(),
                                                  projector_.get(), pool_.get());
  AlertMonitorOptions alert_options = options_.alerts;
  alert_options.recent_days = std::max(alert_options.recent_days, options_.max_age_days + 2);
  ASSIGN_OR_RETURN(alert_monitor_,
                   AlertMonitor::Create(
                       alert_options,
                       [decoder = decoder_.get()](const v1::RatesRequest& request) {
                         return decoder->Rates(request);
                       },
                       &metrics_));
  alerts_service_ = std::make_unique<AlertsService>(tokens_.get(), alert_monitor_.get());

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options_.insecure) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions ssl;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(options_.tls_cert_file));
    ASSIGN_OR_RETURN(pair.private_key, ReadFile(options_.tls_key_file));
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    credentials = grpc::SslServerCredentials(ssl);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, credentials, &port_);
  builder.RegisterService(ingest_service_.get());
  builder.RegisterService(params_service_.get());
  builder.RegisterService(query_service_.get());
  builder.RegisterService(admin_service_.get());
  builder.RegisterService(alerts_service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address));
  }
  const size_t colon = options_.listen_address.rfind(':');
  address_ = absl::StrCat(options_.listen_address.substr(0, colon), ":", port_);
  grpc_server_->GetHealthCheckService()->SetServingStatus(true);
  grpc_server_->GetHealthCheckService()->SetServingStatus(v1::Ingest::service_full_name(), true);
  serving_.store(true);
  alert_monitor_->Start();
  if (!options_.http_listen_address.empty()) {
    CoreBackendOptions backend_options;
    // Days older than the accepted window receive no more pings: their rates are final.
    backend_options.rates_cache.closed_after_days = options_.max_age_days + 1;
    CoreBackend::Parts parts;
    parts.registry = registry_.get();
    parts.decoder = decoder_.get();
    parts.store = store_.get();
    parts.projector = projector_.get();
    parts.alerts = alert_monitor_.get();
    parts.metrics_text = [this] { return metrics_.ExportPrometheus(); };
    parts.healthy = [this] { return serving_.load(); };
    http_backend_ = std::make_unique<CoreBackend>(std::move(parts), backend_options);
    HttpOptions http;
    http.listen_address = options_.http_listen_address;
    http.tls_cert_file = options_.tls_cert_file;
    http.tls_key_file = options_.tls_key_file;
    http.insecure = options_.insecure;
    http.dashboard_dir = options_.dashboard_dir;
    ASSIGN_OR_RETURN(http_gateway_,
                     HttpGateway::Start(http, http_backend_.get(), tokens_.get(), &metrics_));
  }
  maintenance_thread_ = std::thread([this] { MaintenanceLoop(); });
  return absl::OkStatus();
}

absl::Status ServerImpl::ReloadTokens() {
  if (options_.token_file.empty()) {
    token_reloads_->Increment("error");
    return absl::FailedPreconditionError("no token file to reload (--token_file is empty)");
  }
  absl::StatusOr<TokenStore> loaded = TokenStore::LoadFile(options_.token_file);
  if (!loaded.ok()) {
    token_reloads_->Increment("error");
    return absl::Status(loaded.status().code(),
                        absl::StrCat(loaded.status().message(), "; the tokens in use stay"));
  }
  tokens_->Replace(*std::move(loaded));
  token_reloads_->Increment("ok");
  return absl::OkStatus();
}

void ServerImpl::UpdateHealth(bool storage_healthy) {
  // Only while serving: shutdown has already turned everything NOT_SERVING for good.
  if (!serving_.load()) return;
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(storage_healthy);
  health->SetServingStatus(v1::Ingest::service_full_name(), storage_healthy);
}

void ServerImpl::MaintenanceLoop() {
  constexpr absl::Duration kTick = absl::Milliseconds(200);
  // A replica whose database fails three commits in a row reports NOT_SERVING (load balancers
  // take it out) until a commit, or a small read probing the store, succeeds again. (A store that
  // reads but cannot write, e.g. a full disk, alternates between the two states.)
  constexpr int64_t kMaxConsecutiveCommitFailures = 3;
  Counter* const commits = metrics_.AddCounter("pinning_ingest_commits_total", "");
  Counter* const failures = metrics_.AddCounter("pinning_ingest_commit_failures_total", "");
  StorageHealth storage(kMaxConsecutiveCommitFailures);
  bool healthy = true;
  const bool refresh = options_.registry_refresh_interval > absl::ZeroDuration();
  absl::Time last_refresh = absl::Now();
  absl::MutexLock lock(&maintenance_mu_);
  while (!maintenance_stop_) {
    maintenance_mu_.AwaitWithTimeout(absl::Condition(&maintenance_stop_), kTick);
    if (maintenance_stop_) break;
    maintenance_mu_.Unlock();
    bool now_healthy = storage.Observe(commits->Value(), failures->Value());
    if (!now_healthy && store_->ListCatalogVersions().ok()) {
      // Storage answers again (a small read): serve, and let the next commits confirm it.
      storage.ProbeSucceeded(failures->Value());
      now_healthy = true;
    }
    if (now_healthy != healthy) {
      healthy = now_healthy;
      UpdateHealth(healthy);
    }
    const absl::Time now = absl::Now();
    if (refresh && (registry_->NeedsRefresh() ||
                    now - last_refresh >= options_.registry_refresh_interval)) {
      last_refresh = now;
      // A failed refresh is retried on the next round; ingest keeps using the versions it has.
      (void)registry_->Refresh();
    }
    maintenance_mu_.Lock();
  }
}

void ServerImpl::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  serving_.store(false);
  if (maintenance_thread_.joinable()) {
    {
      absl::MutexLock maintenance_lock(&maintenance_mu_);
      maintenance_stop_ = true;
    }
    maintenance_thread_.join();
  }
  if (grpc_server_ != nullptr) {
    // Health first, so load balancers stop sending new work while the rest drains.
    grpc_server_->GetHealthCheckService()->SetServingStatus(false);
    grpc_server_->GetHealthCheckService()->SetServingStatus(v1::Ingest::service_full_name(),
                                                            false);
  }
  if (http_gateway_ != nullptr) http_gateway_->Shutdown();
  if (alert_monitor_ != nullptr) alert_monitor_->Shutdown();
  if (grpc_server_ != nullptr) {
    // Waits for in-flight calls; ingest calls finish when their commits complete, which the
    // still-running committer guarantees. Calls still running at the deadline are cancelled.
    grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
    grpc_server_->Wait();
  }
  if (committer_ != nullptr) committer_->Shutdown();  // commits whatever is still queued
  if (completions_ != nullptr) completions_->Shutdown();
  if (pool_ != nullptr) pool_->Shutdown();
  grpc_server_.reset();
  shutdown_done_.Notify();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  auto server = std::make_unique<ServerImpl>(std::move(options));
  RETURN_IF_ERROR(server->Init());
  return server;
}

}  // namespace pinning::aggregator
