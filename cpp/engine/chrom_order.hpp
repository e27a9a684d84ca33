#pragma once
// The order of the global chromosome table: chr1..chr22, chrX, chrY, chrM first (the
// reference's "standard" chromosomes, the order users index them in), then every other name
// in natural order (digit runs compared as numbers: chr1_KI270706v1_random before chr10_...).
#include <string>

namespace bwl::engine {

// True when `a` comes before `b` in the global chromosome table.
bool chrom_before(const std::string& a, const std::string& b);

// 0-based rank among chr1..chr22, chrX, chrY, chrM, or -1 for any other name.
int standard_chrom_rank(const std::string& name);

}  // namespace bwl::engine
