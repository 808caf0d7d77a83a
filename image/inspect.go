package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Inspection is what nook image inspect shows of an image, with the field
// names of docker image inspect (and Podman's Digest, History and
// ManifestType), so that tools reading Docker's JSON read it.
type Inspection struct {
	// Id is spelled as Docker's, for --format templates ({{.Id}}).
	Id string `json:"Id"`

	Digest        string       `json:"Digest"`
	RepoTags      []string     `json:"RepoTags"`
	RepoDigests   []string     `json:"RepoDigests"`
	Parent        string       `json:"Parent"`
	Comment       string       `json:"Comment"`
	Created       time.Time    `json:"Created"`
	DockerVersion string       `json:"DockerVersion"`
	Author        string       `json:"Author"`
	Config        v1.Config    `json:"Config"`
	Architecture  string       `json:"Architecture"`
	Variant       string       `json:"Variant,omitempty"`
	Os            string       `json:"Os"`
	Size          int64        `json:"Size"`
	RootFS        InspectRoot  `json:"RootFS"`
	Metadata      InspectMeta  `json:"Metadata"`
	History       []v1.History `json:"History"`
	ManifestType  string       `json:"ManifestType"`
}

// InspectRoot is Inspection's RootFS: the layers' DiffIDs, bottom first.
type InspectRoot struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// InspectMeta is Inspection's Metadata: when the image entered the store.
type InspectMeta struct {
	LastTagTime time.Time `json:"LastTagTime"`
}

// Inspect describes the image ref names (as Lookup finds it).
func (s *Store) Inspect(ref string) (Inspection, error) {
	ix, unlock, err := s.lockedIndex(false)
	if err != nil {
		return Inspection{}, err
	}
	defer unlock()
	r, _, err := ix.resolve(ref)
	if err != nil {
		return Inspection{}, err
	}
	data, err := s.getBlob(r.ID)
	if err != nil {
		return Inspection{}, fmt.Errorf("image %s: %w", r.ID, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(data))
	if err != nil {
		return Inspection{}, fmt.Errorf("image %s: parse config: %w: %v", r.ID, ErrCorrupt, err)
	}
	mt := ""
	if raw, err := s.getBlob(r.Manifest); err == nil {
		if m, err := v1.ParseManifest(bytes.NewReader(raw)); err == nil {
			mt = string(m.MediaType)
		}
	}
	in := Inspection{
		Id:            r.ID,
		Digest:        r.Manifest,
		RepoTags:      append([]string{}, r.Names...),
		RepoDigests:   append([]string{}, r.Digests...),
		Comment:       historyComment(cf.History),
		Created:       cf.Created.Time,
		DockerVersion: dockerVersion(data),
		Author:        cf.Author,
		Config:        cf.Config,
		Architecture:  cf.Architecture,
		Variant:       cf.Variant,
		Os:            cf.OS,
		Size:          r.Size,
		RootFS:        InspectRoot{Type: cf.RootFS.Type, Layers: []string{}},
		Metadata:      InspectMeta{LastTagTime: r.Stored},
		History:       cf.History,
		ManifestType:  mt,
	}
	for _, d := range cf.RootFS.DiffIDs {
		in.RootFS.Layers = append(in.RootFS.Layers, d.String())
	}
	return in, nil
}

// dockerVersion reads the config's docker_version, which
// go-containerregistry deprecates but Docker still writes and inspects.
func dockerVersion(config []byte) string {
	var c struct {
		DockerVersion string `json:"docker_version"`
	}
	_ = json.Unmarshal(config, &c)
	return c.DockerVersion
}

// historyComment is the comment of the image's last history entry, where
// docker import and commit put theirs.
func historyComment(h []v1.History) string {
	if len(h) == 0 {
		return ""
	}
	return h[len(h)-1].Comment
}
