"""Floor 1, base: errors, money, units, patterns, compression ratios and the process
pool: plain values and helpers every floor above may import, importing none of them."""
