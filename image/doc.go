// Package image is nook's local image store: it loads images from
// archives (docker-archive, OCI archive, OCI layout), imports root
// filesystem tars, pulls from and pushes to registries, saves archives,
// names, lists, inspects, prunes and removes images. It never runs
// anything, never prints (progress goes to a Progress the caller gives)
// and never unpacks a layer.
//
// # Layout
//
// Under the root ($XDG_DATA_HOME/nook, else ~/.local/share/nook):
//
//	blobs/sha256/<hex>   configs and manifests, checked against their
//	                     digest when written and when read
//	layers/<hex>.tar     a layer's uncompressed tar and its index, <hex>
//	layers/<hex>.idx     the DiffID (made by layer.Create, which checks it)
//	layers/<hex>.pushed  the descriptor the layer was last pushed with
//	layers/.<hex>.lock   held by the one nook downloading that layer
//	images.json          every image by ID: manifest digest, names,
//	                     registry digests, size
//	lock, gc.lock        the locks below
//
// An image's ID is the digest of its config blob, as in Docker. Its
// layers are those the config's rootfs lists, shared by every image that
// lists them. A docker-archive or an import has no manifest of its own;
// the store makes one (OCI, uncompressed layers) so that every image has
// one. Every file is written under a temporary name, synced and renamed
// into place; images.json last, so an image is either fully there or not.
//
// # Locking
//
// Two flock(2) locks, taken per operation on a file opened for it (so
// that goroutines exclude each other as processes do):
//
//   - lock: exclusive for every change of images.json and for deleting
//     content; shared for reads (Lookup, List) that must see images.json
//     and the blobs it names together.
//   - gc.lock: shared by whoever writes or uses content that images.json
//     may not name yet or any more (Load and Import while they write
//     layers, Hold for a caller about to open an image's layers);
//     exclusive for garbage collection, which deletes every blob and
//     layer images.json does not name. So a layer being written is never
//     collected, and a long Load does not keep Lookup or List waiting:
//     they wait only for its short final commit.
//
// Two Loads of one archive at once both write its layers (each under a
// temporary name, renamed into place, the second replacing the first with
// identical bytes) and both commit the same record: the result is one
// image.
//
// # Registries
//
// go-containerregistry speaks the protocol (ping, Basic auth, the bearer
// token dance, retries); the store does the rest. Pull resolves a short
// name through registries.conf (Registries: aliases, then
// unqualified-search-registries in turn, else docker.io as Docker does;
// mirrors before the registry, insecure and blocked registries), fetches
// the manifest (following an index to the platform asked for, the host's
// by default) and config, each checked against its digest and size, and
// then the layers it lacks, a few at a time: each blob streams through a
// reader that checks its size and, at its end, its sha256, into
// layer.Create, which decompresses (gzip, zstd or none, by magic), indexes
// and hashes it as it arrives and renames it into place only when the
// DiffID matches too. A damaged blob is refused with ErrDigestMismatch
// even when decompression fails first: the rest of it is read to tell.
// Only one nook downloads a layer at a time (layers/.<hex>.lock); another
// waits and finds it present. The image enters images.json last. A failed
// pull collects what it wrote when nobody else holds the store (so the
// store is as before); a cancelled or killed one leaves its complete
// layers for the next pull to reuse, and the next pull removes temporary
// files and locks left behind when it has the store to itself.
//
// Credentials come from the files Podman reads, then Docker's, with their
// credential helpers (see AuthFiles); CheckLogin and SaveCredentials are
// nook login's.
//
// Push sends the stored config unchanged (so a pull gives the same ID) and
// the layers a registry lacks gzip-compressed on the fly, remembering each
// compressed digest (layers/<hex>.pushed) so that a later push asks the
// registry for it before sending again.
//
// # Archives
//
// Load tells the format by the files present: manifest.json makes a
// docker-archive (docker save, podman save; docker 25 writes an OCI layout
// beside it, and its manifest.json carries the full names), oci-layout and
// index.json an OCI layout; a tar (plain, gzip or zstd) or a directory
// holds either. A tar is indexed in memory in one pass (member name,
// offset, size) and its members read in place with section readers; only a
// compressed or piped archive is first copied, decompressed, to an
// unlinked temporary file in the store.
//
// An archive is untrusted. Refused, with nothing stored: a member that is
// a symlink, hard link, device or sparse file (a link could point the
// manifest at another member; docker save before version 25 made
// symlinks for repeated layers, and those archives are refused too); a
// member name or manifest path that is absolute or has ".."; two members
// of one name; a manifest, index or config over a size limit; a missing
// blob; a blob whose size or digest differs from its descriptor (a
// docker-archive config whose file name is its digest included); a layer
// whose uncompressed digest is not the config's DiffID; a config whose
// DiffIDs do not match the number of layers. Layers are checked while
// they stream into the store: the compressed digest when the archive
// gives one, the DiffID always (layer.Create fails before the layer
// becomes visible). Anything a failed Load wrote is collected at once when
// no other Load or Import is running, else by the next Remove.
//
// # Names
//
// Names are normalised as Docker and Podman do ("busybox" is
// "docker.io/library/busybox:latest"). Lookup takes a name, a name with a
// manifest digest, a full ID, or a unique ID prefix of at least four hex
// digits; names win over prefixes. An OCI index entry is named by its
// io.containerd.image.name annotation, else by its
// org.opencontainers.image.ref.name when that is an image name with a
// repository (a bare tag such as "latest" names none); otherwise the
// image has no name (nook images shows <none>).
package image
