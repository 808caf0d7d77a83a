package run

import "encoding/hex"

// Generated names are an adjective and a noun picked by the id, as
// Docker's are ("quiet_heron").
var (
	adjectives = []string{"agile", "bold", "brave", "calm", "clever", "eager", "fond", "gentle", "happy", "jolly",
		"keen", "kind", "lucid", "merry", "nifty", "noble", "proud", "quiet", "quick", "sharp",
		"shy", "silly", "sleepy", "swift", "tender", "vivid", "warm", "witty", "zealous", "zen", "cosy", "brisk"}
	nouns = []string{"badger", "beaver", "bison", "crane", "falcon", "ferret", "finch", "gecko", "heron", "ibis",
		"jackal", "koala", "lemur", "lynx", "marten", "mole", "newt", "otter", "owl", "panda",
		"puffin", "quail", "raven", "robin", "seal", "stoat", "swift", "tapir", "vole", "wombat", "wren", "yak"}
)

func generateName(id string) string {
	b, _ := hex.DecodeString(id[:8])
	return adjectives[int(b[0])%len(adjectives)] + "_" + nouns[int(b[1])%len(nouns)] + "_" + id[:4]
}
