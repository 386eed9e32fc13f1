using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using AppHost.Tests.Infrastructure;

namespace AppHost.Tests;

/// <summary>
/// The AppHost as a developer runs it on a fresh machine: <c>dotnet run --project AppHost</c> in its own process, with
/// a HOME that has no development certificate, stopped by Ctrl+C or SIGTERM.
/// </summary>
[Collection(WholeSystemGroup.Name)]
public sealed partial class AppHostProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task On_a_fresh_home_it_serves_the_edge_over_HTTP2_and_the_Aspire_dashboard_and_a_stop_signal_leaves_nothing_running(string signal)
    {
        var home = Directory.CreateTempSubdirectory("apphost-home-");
        try
        {
            await using var appHost = AppHostRun.Start(home.FullName);
            var (edge, login) = await appHost.WaitUntilReadyAsync(StartTimeout);
            var processes = ProcFs.WithEnvironment("HOME", home.FullName);
            Assert.Contains(processes, p => ProcFs.Describe(p).Contains("Edge.Proxy", StringComparison.Ordinal));
            Assert.Contains(processes, p => ProcFs.Describe(p).Contains("Aspire.Dashboard", StringComparison.Ordinal));

            // The AppHost made a development certificate and trusted it for that HOME: the edge and the dashboard serve it.
            using (var client = new HttpClient(TrustingOnly(DevelopmentCertificateOf(home.FullName)))
            {
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            })
            {
                using var page = await client.GetAsync(edge);
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal(HttpVersion.Version20, page.Version);
                using var dashboard = await client.GetAsync(login);
                Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            }

            appHost.Signal(signal);
            Assert.Equal(0, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));

            // DCP stops what it started in the background: every process of this run, DCP and the dashboard included.
            await ProcFs.WaitUntilGoneAsync(processes, TimeSpan.FromSeconds(60));
            Assert.Empty(ProcFs.WithEnvironment("HOME", home.FullName));
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    /// <summary>The certificate <c>dotnet dev-certs https --trust</c> put in that HOME's OpenSSL trust directory.</summary>
    private static X509Certificate2 DevelopmentCertificateOf(string home) =>
        X509CertificateLoader.LoadCertificateFromFile(Assert.Single(Directory.GetFiles(Path.Combine(home, ".aspnet", "dev-certs", "trust"), "*.pem")));

    /// <summary>A handler that validates servers against <paramref name="root"/> alone (this test process has another HOME).</summary>
    private static SocketsHttpHandler TrustingOnly(X509Certificate2 root) => new()
    {
        SslOptions =
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.CustomTrustStore.Add(root);
                return chain.Build(new X509Certificate2(certificate));
            },
        },
    };

    /// <summary><c>dotnet run --project AppHost</c>, on ports no other AppHost on this machine uses.</summary>
    private sealed partial class AppHostRun(ServerProcess process, string home) : IAsyncDisposable
    {
        public static AppHostRun Start(string home)
        {
            var repository = Path.GetDirectoryName(Projects.AppHost.ProjectPath)!;
            // In a session of its own, as in a terminal, so Ctrl+C can go to its whole process group and not to the tests.
            var startInfo = new ProcessStartInfo("setsid",
            [
                ServerProcess.DotnetHost, "run", "--project", "AppHost", "--no-build", "--",
                // Every port chosen at random, the edge's and the dashboard's too: a developer's AppHost may be running.
                "--DcpPublisher:RandomizePorts=true",
                $"--ASPNETCORE_URLS=https://localhost:{LoopbackPort.Free()}",
                $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=https://localhost:{LoopbackPort.Free()}",
                $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=https://localhost:{LoopbackPort.Free()}",
            ])
            {
                WorkingDirectory = repository,
            };
            startInfo.Environment["HOME"] = home;
            // The packages stay where they are; only the user's state (certificates, keys, DCP's files) is new.
            startInfo.Environment["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

            return new AppHostRun(ServerProcess.Start("the AppHost", startInfo), home);
        }

        public async Task<(Uri Edge, Uri Login)> WaitUntilReadyAsync(TimeSpan timeout)
        {
            var edge = process.WaitForLineAsync(LiveDashboardLine(), timeout);
            var login = process.WaitForLineAsync(LoginLine(), timeout);
            return (new Uri((await edge).Groups["url"].Value), new Uri((await login).Groups["url"].Value));
        }

        /// <summary>
        /// SIGINT as Ctrl+C sends it, to the terminal's whole foreground process group (`dotnet run` and the AppHost);
        /// SIGTERM as a service manager or `kill` sends it, to the one process started.
        /// </summary>
        public void Signal(string signal) => process.Signal(signal, processGroup: signal == "INT");

        public async Task<int> WaitForExitAsync(TimeSpan timeout) =>
            await process.WaitForExitAsync(timeout) ? process.ExitCode : throw new TimeoutException($"The AppHost did not exit within {timeout}:\n{process.Output}");

        public async ValueTask DisposeAsync()
        {
            await process.DisposeAsync();

            // Whatever a failed test left behind of this run (DCP runs detached from the AppHost).
            foreach (var leftover in ProcFs.WithEnvironment("HOME", home))
            {
                try
                {
                    Process.GetProcessById(leftover).Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }

        [GeneratedRegex(@"Live dashboard \(edge, HTTPS \+ HTTP/2\): (?<url>https://\S+)")]
        private static partial Regex LiveDashboardLine();

        [GeneratedRegex(@"Login to the dashboard at (?<url>https://\S+/login\?t=\S+)")]
        private static partial Regex LoginLine();
    }
}
