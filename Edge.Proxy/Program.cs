using Edge.Proxy.Forwarding;
using Edge.Proxy.Hosting;
using Edge.Proxy.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddEdgeServer();
builder.AddEdgeSecurityHeaders();
builder.AddEdgeProxy();
builder.AddEdgeRequestTimeouts();

var app = builder.Build();

app.UseEdgeSecurityHeaders();
app.UseRequestTimeouts();
app.MapDefaultEndpoints();
app.MapEdgeProxy();

app.Run();
