// Package brasilia is Brasília time: the zone naive provider timestamps are
// read in and every date is shown in.
package brasilia

import "time"

// Zone is Brasília time, UTC−03:00 all year: Brazil has had no daylight
// saving time since 2019. A fixed zone, not America/Sao_Paulo from tzdata,
// so reading and showing dates do not depend on the host having tzdata
// (minimal images often lack it) nor on its version.
var Zone = time.FixedZone("BRT", -3*60*60)
