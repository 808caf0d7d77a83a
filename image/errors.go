package image

import "errors"

var (
	// ErrNotFound means no image matches a reference.
	ErrNotFound = errors.New("image not found")

	// ErrAmbiguous means an ID prefix matches more than one image.
	ErrAmbiguous = errors.New("image ID prefix is ambiguous")

	// ErrInUse means Remove refused an image that a container uses
	// (RemoveOptions.InUse) without Force.
	ErrInUse = errors.New("image is in use by a container")

	// ErrTagged means Remove was given an image ID, without Force, for an
	// image with several names: remove the names one by one, or force.
	ErrTagged = errors.New("image has several names")

	// ErrInvalidReference means a string is not an image name (or ID).
	ErrInvalidReference = errors.New("invalid image reference")

	// ErrNotArchive means Load found neither a docker-archive, an OCI
	// archive nor an OCI layout.
	ErrNotArchive = errors.New("not an image archive: want a docker-archive tar (docker save), an OCI archive tar (podman save --format oci-archive) or an OCI layout directory")

	// ErrInvalidArchive means an archive is malformed or hostile: a path
	// outside it, a missing blob, a link member, a size over a limit, a
	// layer count that does not match the config. Load writes nothing.
	ErrInvalidArchive = errors.New("invalid image archive")

	// ErrDigestMismatch means a blob or layer does not hash to the digest
	// that names it. Load writes nothing.
	ErrDigestMismatch = errors.New("digest mismatch")

	// ErrCorrupt means the store itself is damaged: images.json does not
	// parse, or a blob it needs is missing or does not match its digest.
	ErrCorrupt = errors.New("image store is corrupt")
)

// Registry errors: each is also matched by the error a pull or push
// returns, whatever detail its message gives.
var (
	// ErrUnauthorized means the registry refused the credentials, or
	// wants some and nook has none for it (nook login REGISTRY).
	ErrUnauthorized = errors.New("unauthorized")

	// ErrUnreachable means no connection to the registry could be made
	// or kept: DNS, refused, reset, timed out, a TLS failure.
	ErrUnreachable = errors.New("registry unreachable")

	// ErrPlatformNotFound means an image index has no image for the
	// platform asked for.
	ErrPlatformNotFound = errors.New("no image for the platform")

	// ErrUnsupported means the registry serves something nook does not
	// pull: a Docker schema 1 manifest, an artifact that is no image, a
	// layer of an unknown media type.
	ErrUnsupported = errors.New("unsupported manifest or layer")

	// ErrNoSpace means a write into the store ran out of space (ENOSPC,
	// or the user's quota: EDQUOT). What the operation wrote is removed.
	ErrNoSpace = errors.New("no space left in the image store")

	// ErrBlocked means registries.conf blocks the registry.
	ErrBlocked = errors.New("registry is blocked")
)
