package api

import "math"

// exp2By32 holds 2^(j/32) for j = 0…31, correctly rounded. It is a
// read-only table: nothing writes it after initialisation.
var exp2By32 = [32]float64{
	1.0, 1.0218971486541166, 1.0442737824274138, 1.0671404006768237,
	1.0905077326652577, 1.1143867425958924, 1.1387886347566916, 1.1637248587775775,
	1.189207115002721, 1.215247359980469, 1.241857812073484, 1.2690509571917332,
	1.2968395546510096, 1.3252366431597413, 1.3542555469368927, 1.383909881963832,
	1.4142135623730951, 1.4451808069770467, 1.4768261459394993, 1.5091644275934228,
	1.5422108254079407, 1.5759808451078865, 1.6104903319492543, 1.645755478153965,
	1.681792830507429, 1.718619298122478, 1.7562521603732995, 1.7947090750031072,
	1.8340080864093424, 1.8741676341103, 1.9152065613971474, 1.9571441241754002,
}

// Constants of expFast's argument reduction: ln 2 / 32 split into a high
// part whose products with |k| < 2^21 are exact (math/exp.go's Ln2Hi / 32)
// and the rest; and the round-to-nearest magic number 1.5×2^52.
const (
	ln2HiBy32 = 6.93147180369123816490e-01 / 32
	ln2LoBy32 = 1.90821492927058770002e-10 / 32
	invLn2x32 = 32 / math.Ln2
	roundMag  = 0x1.8p52
)

// expFast returns e^x within 2 ulp of math.Exp (TestExpFast checks it),
// at a third of its cost on amd64: the latency model draws one log-normal
// per upstream call, and math.Exp was the largest single cost of a
// decision. Tang's table method: x = (32m + j)·ln2/32 + r with |r| ≤
// ln2/64, e^x = 2^m · 2^(j/32) · e^r, e^r by its degree-6 Taylor polynomial
// (truncation error below 4·10⁻¹⁸). Arguments beyond ±700, infinities and
// NaN go to math.Exp.
func expFast(x float64) float64 {
	if !(x > -700 && x < 700) {
		return math.Exp(x)
	}
	kf := x*invLn2x32 + roundMag - roundMag // round to nearest
	k := int64(kf)
	r := (x - kf*ln2HiBy32) - kf*ln2LoBy32
	// The polynomial by Estrin's scheme: three short chains on r² instead
	// of Horner's five dependent steps.
	r2 := r * r
	p := r + r2*((1.0/2+r*(1.0/6))+r2*((1.0/24+r*(1.0/120))+r2*(1.0/720)))
	t := exp2By32[k&31]
	return (t + t*p) * math.Float64frombits(uint64(1023+(k>>5))<<52)
}
