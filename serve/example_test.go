package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/serve"
)

// miniClassifier returns a Classifier over a mini GoogLeNet with random
// weights (1x28x28 inputs, 10 classes); serve.Load("model.safetensors", nil,
// opts) reads a trained one with its labels and normalisation.
func miniClassifier(o serve.Options) *serve.Classifier {
	cfg := inception.Mini()
	cfg.BatchSize = 1
	m, err := inception.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	c, err := serve.New(m, eval.Meta{}, o)
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func ExampleClassifier() {
	c := miniClassifier(serve.Options{TopK: 3, MaxBatch: 4})
	defer c.Close()
	ctx := context.Background()
	img := image.NewGray(image.Rect(0, 0, 64, 48)) // any size: cropped and scaled inside

	// Eight goroutines share the classifier; their images are batched.
	preds := make([]serve.Prediction, 8)
	var wg sync.WaitGroup
	for i := range preds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Classify(ctx, img)
			if err != nil {
				log.Fatal(err)
			}
			preds[i] = p[0]
		}()
	}
	wg.Wait()
	same := true
	for _, p := range preds {
		same = same && p.Top[0] == preds[0].Top[0]
	}
	fmt.Println("top classes per image:", len(preds[0].Top), "- all goroutines agree:", same)

	emb, err := c.Embed(ctx, img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("embedding:", len(emb[0]), "values (pool5)")

	_, err = c.Classify(ctx, image.NewGray(image.Rect(0, 0, 1, 1)))
	var ie *serve.InputError
	fmt.Println("1x1 image refused:", errors.As(err, &ie))
	// Output:
	// top classes per image: 3 - all goroutines agree: true
	// embedding: 112 values (pool5)
	// 1x1 image refused: true
}

func ExampleNewHandler() {
	c := miniClassifier(serve.Options{})
	defer c.Close()
	srv := httptest.NewServer(serve.NewHandler(c, serve.HandlerOptions{
		Limits: serve.Limits{MaxPixels: 4096 * 4096},
	}))
	defer srv.Close()

	var body bytes.Buffer
	png.Encode(&body, image.NewGray(image.Rect(0, 0, 40, 40)))
	resp, err := http.Post(srv.URL+"/v1/classify?topk=2", "image/png", &body)
	if err != nil {
		log.Fatal(err)
	}
	var answer struct {
		Predictions []struct {
			Top []eval.Class `json:"top"`
		} `json:"predictions"`
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, len(answer.Predictions), "prediction,", len(answer.Predictions[0].Top), "classes")

	resp, err = http.Post(srv.URL+"/v1/classify", "text/plain", bytes.NewReader([]byte("hello")))
	if err != nil {
		log.Fatal(err)
	}
	var e struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, e.Error)
	// Output:
	// 200 1 prediction, 2 classes
	// 415 Content-Type text/plain not accepted: send image/jpeg, image/png, application/octet-stream or multipart/form-data
}
