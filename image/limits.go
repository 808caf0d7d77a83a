package image

// Bounds on what Load reads into memory from an archive, so that a hostile
// archive cannot make nook allocate without limit. Registries refuse
// manifests over 4 MiB; real configs are a few KiB (long histories reach a
// few hundred).
const (
	maxJSON      = 4 << 20  // manifest.json, index.json, oci-layout, manifests, indexes
	maxConfig    = 16 << 20 // an image config
	maxMembers   = 1 << 17  // members of an archive tar
	maxImages    = 1 << 12  // images in one archive
	maxIndexNest = 4        // image indexes within image indexes
	maxLayers    = 1024     // layers of one pulled image (Docker stops at 127)
)
