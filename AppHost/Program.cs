using AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

// Secrets for this run (random unless Parameters:<name> is configured; never printed).
// The development issuer: Dashboard.Web signs a development user in and mints access tokens with this key;
// Metrics.Api trusts them (in Development only). Stream tickets: Metrics.Api's own key, shared by its replicas.
var developmentIssuerKey = builder.AddParameter("development-issuer-signing-key", secret: true);
var streamTicketKey = builder.AddParameter("stream-ticket-signing-key", secret: true);
const string DevelopmentIssuer = "https://dev-issuer.localhost";
const string DevelopmentAudience = "metrics-api";

var metricsApi = builder.AddProject<Projects.Metrics_Api>("metrics-api")
    .WithReplicas(builder.GetSetting("MetricsApi:Replicas", 1))
    .WithEnvironment("StreamTickets__SigningKey", streamTicketKey)
    .WithEnvironment("DevelopmentIssuer__SigningKey", developmentIssuerKey)
    .WithEnvironment("DevelopmentIssuer__Issuer", DevelopmentIssuer)
    .WithEnvironment("DevelopmentIssuer__Audience", DevelopmentAudience)
    .WithHttpHealthCheck("/health");

var dashboardWeb = builder.AddProject<Projects.Dashboard_Web>("dashboard-web")
    .WithReference(metricsApi)
    .WithEnvironment("DevelopmentIssuer__SigningKey", developmentIssuerKey)
    .WithEnvironment("DevelopmentIssuer__Issuer", DevelopmentIssuer)
    .WithEnvironment("DevelopmentIssuer__Audience", DevelopmentAudience)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Edge_Proxy>("edge-proxy")
    .WithReference(metricsApi).WaitFor(metricsApi)
    .WithReference(dashboardWeb).WaitFor(dashboardWeb)
    .WithEndpoint("https", endpoint => endpoint.Port = builder.GetSetting("EdgeHttpsPort", 7443))
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.Build().Run();
