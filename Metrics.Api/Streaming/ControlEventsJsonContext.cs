using System.Text.Json;
using System.Text.Json.Serialization;
using Metrics.Api.Sampling;

namespace Metrics.Api.Streaming;

/// <summary>Source-generated JSON for every payload on the stream (camelCase, no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReadyData))]
[JsonSerializable(typeof(GapData))]
[JsonSerializable(typeof(GoodbyeData))]
[JsonSerializable(typeof(MetricsSample))]
public sealed partial class StreamingJsonContext : JsonSerializerContext;
