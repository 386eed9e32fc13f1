using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
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
    private sealed partial class AppHostRun : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _home;
        private readonly ConcurrentQueue<string> _output = new();
        private readonly TaskCompletionSource<Uri> _edge = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<Uri> _login = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private AppHostRun(Process process, string home)
        {
            _process = process;
            _home = home;
        }

        public static AppHostRun Start(string home)
        {
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var repository = Path.GetDirectoryName(Projects.AppHost.ProjectPath)!;
            // In a session of its own, as in a terminal, so Ctrl+C can go to its whole process group and not to the tests.
            var startInfo = new ProcessStartInfo("setsid",
            [
                dotnet, "run", "--project", "AppHost", "--no-build", "--",
                // Every port chosen at random, the edge's and the dashboard's too: a developer's AppHost may be running.
                "--DcpPublisher:RandomizePorts=true",
                $"--ASPNETCORE_URLS=https://localhost:{FreePort()}",
                $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=https://localhost:{FreePort()}",
                $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=https://localhost:{FreePort()}",
            ])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = repository,
            };
            startInfo.Environment["HOME"] = home;
            // The packages stay where they are; only the user's state (certificates, keys, DCP's files) is new.
            startInfo.Environment["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

            var process = new Process { StartInfo = startInfo };
            var run = new AppHostRun(process, home);
            process.OutputDataReceived += (_, e) => run.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => run.OnLine(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return run;
        }

        public async Task<(Uri Edge, Uri Login)> WaitUntilReadyAsync(TimeSpan timeout)
        {
            try
            {
                var exited = _process.WaitForExitAsync();
                var ready = Task.WhenAll(_edge.Task, _login.Task);
                await Task.WhenAny(ready, exited).WaitAsync(timeout);
                Assert.True(ready.IsCompletedSuccessfully, $"the AppHost exited with {(_process.HasExited ? _process.ExitCode : -1)}:\n{Output}");
                return (await _edge.Task, await _login.Task);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"the AppHost did not get ready in {timeout}:\n{Output}");
                throw;
            }
        }

        /// <summary>
        /// SIGINT as Ctrl+C sends it, to the terminal's whole foreground process group (`dotnet run` and the AppHost);
        /// SIGTERM as a service manager or `kill` sends it, to the one process started.
        /// </summary>
        public void Signal(string signal)
        {
            var target = signal == "INT" ? $"-{_process.Id}" : _process.Id.ToString(CultureInfo.InvariantCulture);
            using var kill = Process.Start("kill", [$"-{signal}", "--", target]);
            kill.WaitForExit();
        }

        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            // Whatever a failed test left behind of this run (DCP runs detached from the AppHost).
            foreach (var leftover in ProcFs.WithEnvironment("HOME", _home))
            {
                try
                {
                    Process.GetProcessById(leftover).Kill();
                }
                catch (ArgumentException)
                {
                }
            }

            _process.Dispose();
        }

        private string Output => string.Join('\n', _output.TakeLast(80));

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _output.Enqueue(line);
            if (LiveDashboardLine().Match(line) is { Success: true } edge)
            {
                _edge.TrySetResult(new Uri(edge.Groups["url"].Value));
            }

            if (LoginLine().Match(line) is { Success: true } login)
            {
                _login.TrySetResult(new Uri(login.Groups["url"].Value));
            }
        }

        [GeneratedRegex(@"Live dashboard \(edge, HTTPS \+ HTTP/2\): (?<url>https://\S+)")]
        private static partial Regex LiveDashboardLine();

        [GeneratedRegex(@"Login to the dashboard at (?<url>https://\S+/login\?t=\S+)")]
        private static partial Regex LoginLine();
    }
}
