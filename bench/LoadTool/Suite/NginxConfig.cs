using System.Globalization;

namespace LoadTool.Suite;

/// <summary>
/// nginx + nchan as the peer: one channel, an HTTP POST publisher, EventSource subscribers over HTTP/1.1 and
/// HTTP/2 over TLS, on 127.0.0.1 only, in a folder of the run (no system configuration is read or changed).
/// </summary>
public static class NginxConfig
{
    public static string Write(string dir, string nchanModule, int h1Port, int h2Port, string certificatePem, string keyPem, int streamsPerConnection, int openFiles)
    {
        foreach (var temp in new[] { "body", "proxy", "fastcgi", "uwsgi", "scgi" })
        {
            Directory.CreateDirectory(Path.Combine(dir, temp));
        }

        var c = CultureInfo.InvariantCulture;
        var config = string.Create(c, $$"""
            # Written by bench/LoadTool for one benchmark scenario; removed with the run's results folder.
            load_module {{nchanModule}};
            daemon off;
            master_process on;
            # Two cores: one worker per core, as `auto` would choose.
            worker_processes 2;
            worker_rlimit_nofile {{openFiles}};
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log warn;

            events {
                worker_connections {{Math.Max(1024, openFiles - 200)}};
            }

            http {
                access_log off;
                client_body_temp_path {{dir}}/body;
                proxy_temp_path {{dir}}/proxy;
                fastcgi_temp_path {{dir}}/fastcgi;
                uwsgi_temp_path {{dir}}/uwsgi;
                scgi_temp_path {{dir}}/scgi;
                # HTTP/2 streams per connection: the same number every HTTP/2 target gets.
                http2_max_concurrent_streams {{streamsPerConnection}};
                # Churn reuses HTTP/2 connections for many streams; nginx's default would close them every 1,000.
                keepalive_requests 10000000;

                server {
                    # reuseport: the kernel spreads connections over both workers.
                    listen 127.0.0.1:{{h1Port}} reuseport backlog=4096;
                    listen 127.0.0.1:{{h2Port}} ssl http2 reuseport backlog=4096;
                    ssl_certificate {{certificatePem}};
                    ssl_certificate_key {{keyPem}};
                    ssl_protocols TLSv1.2 TLSv1.3;

                    location = /pub {
                        allow 127.0.0.1;
                        deny all;
                        nchan_publisher;
                        nchan_channel_id metrics;
                        nchan_message_buffer_length 10;
                        nchan_message_timeout 60s;
                    }

                    location = /sub {
                        nchan_subscriber eventsource;
                        nchan_channel_id metrics;
                        # New subscribers wait for the next message, as Metrics.Api's live stream does.
                        nchan_subscriber_first_message newest;
                        nchan_eventsource_event metrics;
                        # The same heartbeat as Metrics.Api (15 s).
                        nchan_eventsource_ping_interval 15;
                    }

                    location = /nchan_status {
                        allow 127.0.0.1;
                        deny all;
                        nchan_stub_status;
                    }
                }
            }
            """);
        var path = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(path, config);
        return path;
    }
}
