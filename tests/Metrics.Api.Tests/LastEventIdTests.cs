using Metrics.Api.Apis;

namespace Metrics.Api.Tests;

public class LastEventIdTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", 0L)]
    [InlineData("1795692126735007", 1795692126735007L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Accepts_absent_or_decimal_ids(string? text, long? expected)
    {
        Assert.True(LastEventId.TryParse(text, out var id));
        Assert.Equal(expected, id);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.5")]
    [InlineData("1,000")]
    [InlineData("0x10")]
    [InlineData("9223372036854775808")]
    [InlineData("00000000000000000001")]
    [InlineData("12\r\nevent: injected")]
    [InlineData("١٢")]
    public void Rejects_anything_else(string text) => Assert.False(LastEventId.TryParse(text, out _));
}
