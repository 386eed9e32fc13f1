using AppHost;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// Secrets: generated for the run unless Parameters:<name> is set, never printed. With the development issuer's
// key Dashboard.Web mints access tokens Metrics.Api trusts (Development only); the ticket key is Metrics.Api's own.
var developmentIssuerKey = builder.AddParameter("development-issuer-signing-key", GeneratedKey(), secret: true);
var streamTicketKey = builder.AddParameter("stream-ticket-signing-key", GeneratedKey(), secret: true);

var metricsApi = builder.AddProject<Projects.Metrics_Api>("metrics-api")
    .WithReplicas(builder.Configuration.GetValue("MetricsApi:Replicas", 1))
    .WithEnvironment("StreamTickets__SigningKey", streamTicketKey)
    .WithDevelopmentIssuer(developmentIssuerKey)
    // Socket completions run on the I/O thread instead of one more hop through the thread pool: 12 % less CPU and a
    // tighter tail at 10,000 streams (bench/analysis.md). Read by the runtime at start, so it is the process's environment.
    .WithEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")
    .WithHttpHealthCheck("/health");

// With more than one replica (or Streaming:Backplane=Redis, and always when publishing) they share one event log on Redis.
builder.AddStreamBackplane(metricsApi);

var dashboardWeb = builder.AddProject<Projects.Dashboard_Web>("dashboard-web")
    .WithReference(metricsApi)
    .WithDevelopmentIssuer(developmentIssuerKey)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Edge_Proxy>("edge-proxy")
    .WithReference(metricsApi).WaitFor(metricsApi)
    .WithReference(dashboardWeb).WaitFor(dashboardWeb)
    .WithPublicHttpsEndpoint(builder.Configuration.GetValue("EdgeHttpsPort", 7443))
    // Every event makes thousands of proxied streams readable at once, and each copy rents its buffers from the shared
    // ArrayPool, which keeps 32 arrays per size per core by default: nearly every rental of a burst would be a fresh,
    // zeroed array. Read by the runtime at start, so it is the process's environment (bench/analysis.md has the figures).
    .WithEnvironment("DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION", "4096")
    .WithHttpHealthCheck("/health");

if (builder.ExecutionContext.IsRunMode)
{
    // Local runs only: HTTPS with the development certificate, and an operator command in the Aspire dashboard.
    DevelopmentCertificate.EnsureTrusted();
    metricsApi.WithRebalanceStreamsCommand(builder.AddParameter("stream-admin-key", GeneratedKey(), secret: true));
}

builder.Build().Run();

// 64 letters and digits: valid base64 of 48 random bytes, as the services want their keys; azd generates it too.
static GenerateParameterDefault GeneratedKey() => new() { MinLength = 64, Special = false };
