using Metrics.Api.Apis;
using Metrics.Api.Auth;
using Metrics.Api.Backplane;
using Metrics.Api.Hosting;
using Metrics.Api.Sampling;
using Metrics.Api.Streaming;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddServerLimits();
builder.AddMetricsStreaming();
builder.AddStreamBackplane();
builder.AddMetricsSampling();
builder.AddMetricsApiAuth();
builder.AddTicketRateLimiting();
builder.AddStreamAdmin();
builder.AddProblemAnswers();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMetricsApiAuth();
// After authentication: the ticket limit is per user.
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapInstanceApi();
app.MapMetricsStreamApi();
app.MapStreamTicketsApi();
app.MapStreamAdminApi();

app.Run();
